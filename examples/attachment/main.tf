# One key pair attached to a set of instances. Editing `instance_ids` updates the attachment
# in place: removed instances are detached and added ones attached, in batched calls.
#
# With the emulator, register instances first (see docs/emulator.md), e.g.:
#   curl -X POST http://127.0.0.1:8080/_emulator/instances -d \
#     '{"cloud":"ecs","region":"cn-hangzhou","instances":[{"id":"i-web1","os":"linux","status":"Running"}]}'

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

variable "instance_ids" {
  type    = set(string)
  default = ["i-web1", "i-web2"]
}

provider "sshkey" {
  cloud      = var.cloud
  region     = var.region
  endpoint   = var.endpoint
  access_key = var.access_key
  secret_key = var.secret_key
}

resource "sshkey_key_pair" "deploy" {
  name              = "deploy_key"
  detach_on_destroy = true
}

resource "sshkey_key_pair_attachment" "web" {
  key_pair_name = sshkey_key_pair.deploy.name
  key_id        = var.cloud == "ecs" ? null : sshkey_key_pair.deploy.key_id
  instance_ids  = var.instance_ids
}
