# terraform init -backend-config=examples/backend-production.hcl
# State holds the generated DB password and API token: an encrypted bucket
# that only the platform team can read.
bucket       = "example-org-terraform-state"
key          = "catalog-api/prod.tfstate"
region       = "eu-west-1"
encrypt      = true
use_lockfile = true # Terraform >= 1.10; older: dynamodb_table = "terraform-locks"
