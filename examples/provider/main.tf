# Provider configuration for the sshkey provider. Credentials come from the environment
# (ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET for ecs and ens,
# TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY for cvm) unless access_key / secret_key are set.
terraform {
  required_providers {
    sshkey = {
      source = "sshkey/sshkey"
    }
  }
}

variable "cloud" {
  description = "Which cloud API to manage key pairs on: ecs, ens or cvm."
  type        = string
  default     = "ecs"
}

variable "region" {
  description = "Region of the key pairs (ENS key pairs are global; any region works there)."
  type        = string
  default     = "cn-hangzhou"
}

variable "endpoint" {
  description = "API endpoint override; the default is the local emulator (`sshkey-emulator`)."
  type        = string
  default     = "http://127.0.0.1:8080"
}

provider "sshkey" {
  cloud    = var.cloud
  region   = var.region
  endpoint = var.endpoint

  # Optional batch limits; the defaults are the cloud's hard limits (delete: 100 on ecs and cvm,
  # 1 on ens; detach/attach: 50 ecs, 30 ens, 100 cvm). Smaller batches mean more API calls.
  # max_delete_batch = 100
  # max_detach_batch = 50

  request_timeout = "30s"
  max_retries     = 5
  batch_window    = "10ms"
}
