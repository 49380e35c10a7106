# Find key pairs by name prefix, regular expression or fingerprint.

terraform {
  required_providers {
    sshkey = {
      source = "sshkey/sshkey"
    }
  }
}

variable "cloud" {
  type    = string
  default = "ecs"
}

variable "region" {
  type    = string
  default = "cn-hangzhou"
}

variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:8080"
}

variable "access_key" {
  type    = string
  default = "sshkey-emulator-id"
}

variable "secret_key" {
  type      = string
  default   = "sshkey-emulator-secret"
  sensitive = true
}

provider "sshkey" {
  cloud      = var.cloud
  region     = var.region
  endpoint   = var.endpoint
  access_key = var.access_key
  secret_key = var.secret_key
}

data "sshkey_key_pairs" "fleet" {
  name_prefix = "fleet_"
  name_regex  = "_0[0-9]{2}$"
}

output "fleet_names" {
  value = data.sshkey_key_pairs.fleet.names
}
