# 250 key pairs from one for_each. `terraform destroy -parallelism=100` deletes them in a
# handful of batched DeleteKeyPairs calls instead of 250 single ones.
#
# Defaults point at the sshkey emulator (`sshkey-emulator`, see docs/emulator.md).

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

variable "key_count" {
  type    = number
  default = 250
}

provider "sshkey" {
  cloud      = var.cloud
  region     = var.region
  endpoint   = var.endpoint
  access_key = var.access_key
  secret_key = var.secret_key
}

resource "sshkey_key_pair" "fleet" {
  # Names valid on every cloud (CVM allows only letters, digits and underscores).
  for_each = toset([for i in range(var.key_count) : format("fleet_%03d", i)])
  name     = each.key
}

output "key_ids" {
  value = [for k in sshkey_key_pair.fleet : k.key_id]
}
