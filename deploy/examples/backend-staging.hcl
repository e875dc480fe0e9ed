# terraform init -reconfigure -backend-config=examples/backend-staging.hcl
bucket       = "example-org-terraform-state"
key          = "catalog-api/staging.tfstate"
region       = "eu-west-1"
encrypt      = true
use_lockfile = true
