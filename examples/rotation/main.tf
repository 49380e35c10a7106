# Rotating a key pair that instances use, with no moment where an instance has no key.
#
# `name_prefix` gives every key pair its own name, so with `create_before_destroy` on the key
# pair and on the attachment, changing `public_key` runs, in this order:
#   1. the new key pair is created (ImportKeyPair),
#   2. it is attached to every instance (batched AttachKeyPair / AssociateInstancesKeyPairs),
#   3. the old key pair is taken from them (batched DetachKeyPair / DisassociateInstancesKeyPairs),
#   4. the old key pair is deleted (DeleteKeyPairs), no longer bound.
#
#   terraform apply -var public_key="$(cat new.pub)"
#
# With the emulator, register the instances first (see docs/emulator.md), e.g.:
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

variable "public_key" {
  type        = string
  description = "The OpenSSH public key the instances should accept; change it to rotate."
  default     = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHt7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7 example"
}

variable "instance_ids" {
  type    = set(string)
  default = ["i-web1", "i-web2"]
}

provider "sshkey" {
  cloud    = var.cloud
  region   = var.region
  endpoint = var.endpoint
}

resource "sshkey_key_pair" "deploy" {
  name_prefix = "deploy_"
  public_key  = var.public_key

  lifecycle {
    create_before_destroy = true
  }
}

resource "sshkey_key_pair_attachment" "web" {
  key_pair_name = sshkey_key_pair.deploy.name
  key_id        = var.cloud == "ecs" ? null : sshkey_key_pair.deploy.key_id
  instance_ids  = var.instance_ids

  lifecycle {
    create_before_destroy = true
  }
}

output "key_pair_name" {
  value = sshkey_key_pair.deploy.name
}
