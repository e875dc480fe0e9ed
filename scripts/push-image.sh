#!/usr/bin/env bash
# Pushes the image scripts/image-smoke.sh built and tested (never a rebuild)
# to ECR as <repository>:<tag>, and prints the pushed reference by digest,
# <repository>@sha256:..., the one thing deploys run. When the tag is already
# in ECR (a re-run of a deploy whose later step failed; tags are immutable)
# nothing is pushed and the existing image's digest is printed.
#
#   bash scripts/push-image.sh <local image> <ecr repository url> <tag>
#
# Needs podman, the AWS CLI and credentials that may push to the repository.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 <local image> <ecr repository url> <tag>" >&2; exit 2; }
local_image=$1 repo=$2 tag=$3
registry=${repo%%/*}
name=${repo#*/}
region=$(printf '%s' "$registry" | sed -n 's/^[0-9]*\.dkr\.ecr\.\([a-z0-9-]*\)\.amazonaws\.com.*/\1/p')
[ -n "$region" ] || { echo "push-image: '$repo' is not an ECR repository URL" >&2; exit 2; }

existing=$(aws ecr describe-images --region "$region" --repository-name "$name" --image-ids "imageTag=$tag" \
  --query 'imageDetails[0].imageDigest' --output text 2>/dev/null || true)
if [ -n "$existing" ] && [ "$existing" != None ]; then
  echo "push-image: $repo:$tag is already in ECR ($existing): not pushed again" >&2
  echo "$repo@$existing"
  exit 0
fi
aws ecr get-login-password --region "$region" | podman login --username AWS --password-stdin "$registry" >/dev/null
digest_file=$(mktemp)
trap 'rm -f "$digest_file"' EXIT
podman push --format v2s2 --digestfile "$digest_file" "$local_image" "docker://$repo:$tag" >&2
digest=$(cat "$digest_file")
[ -n "$digest" ] || { echo "push-image: podman push gave no digest" >&2; exit 1; }
echo "push-image: pushed $local_image as $repo:$tag ($digest)" >&2
echo "$repo@$digest"
