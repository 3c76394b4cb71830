#!/usr/bin/env bash
# Offline checks of the Terraform examples: `terraform fmt -check`, then
# `terraform init -backend=false` from the local provider mirror,
# `terraform validate` and, where a folder has tests/, `terraform test`, for
# every folder under examples/.
#
# Nothing is written into examples/: each example is validated in a copy
# under a temporary directory, with its own TF_DATA_DIR, and the copy is
# removed on exit. Nothing reaches the network: providers come from the
# filesystem mirror only (.ci/tf-mirror.sh) and the version checkpoint is off.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

if ! command -v terraform >/dev/null 2>&1; then
    echo "terraform-check: terraform is not installed (not found on PATH); install Terraform >= 1.5" >&2
    exit 1
fi

# shellcheck source=tf-mirror.sh
source .ci/tf-mirror.sh
if ! mirror="$(tf_mirror_root)"; then
    echo "terraform-check: no provider mirror with hashicorp/aws; cannot init offline" >&2
    exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/terraform-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT

tf_write_cli_config "$work/terraformrc" "$mirror"
export TF_CLI_CONFIG_FILE="$work/terraformrc"
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0
unset TF_PLUGIN_CACHE_DIR

echo "terraform-check: $(terraform version | head -n1), providers from $mirror"

echo "terraform-check: terraform fmt -check -recursive examples/"
if ! terraform fmt -check -recursive -diff examples/; then
    echo "terraform-check: formatting differs; run 'terraform fmt -recursive examples/'" >&2
    exit 1
fi

# The copy keeps the folder layout (examples refer to each other by ../path)
# and leaves out state, lock files and .terraform/ of earlier local runs.
mkdir -p "$work/examples"
tar -C examples --exclude=.terraform --exclude=.terraform.lock.hcl \
    --exclude='terraform.tfstate*' --exclude='*.tfvars' -cf - . | tar -C "$work/examples" -xf -

# `terraform test` for a folder with tests/*.tftest.hcl: plan-time checks with
# a mocked provider (no credentials, nothing created), e.g. the module's IAM
# statements and its timeout precondition.
run_module_tests() {
    local name="$1"
    compgen -G "examples/$name/tests/*.tftest.hcl" >/dev/null || return 0
    echo "terraform-check: examples/$name: terraform test"
    terraform -chdir="$work/examples/$name" test -no-color
}

passed=0
failed=0
# Examples, and the child modules they ship (examples/*/modules/*: validated on
# their own, since a module that no example calls would otherwise go unchecked).
for dir in examples/*/ examples/*/modules/*/; do
    [[ -d "$dir" ]] || continue
    name="${dir#examples/}"
    name="${name%/}"
    compgen -G "$dir*.tf" >/dev/null || continue
    echo "terraform-check: examples/$name: init (offline) and validate"
    slug="${name//\//_}"
    export TF_DATA_DIR="$work/data/$slug"
    if terraform -chdir="$work/examples/$name" init -backend=false -input=false -no-color \
        >"$work/init-$slug.log" 2>&1 \
        && terraform -chdir="$work/examples/$name" validate -no-color \
        && run_module_tests "$name"; then
        passed=$((passed + 1))
    else
        [[ -s "$work/init-$slug.log" ]] && cat "$work/init-$slug.log" >&2
        echo "terraform-check: examples/$name FAILED" >&2
        failed=$((failed + 1))
    fi
done

# The module with each zip source (a local file, an S3 object), in one root so that it costs one
# more init. Validating examples/terraform as a root leaves every variable unknown; here the
# module gets known values for each source. (Refusing both or neither is a plan-time
# precondition, checked by tests/e2e/test_zip_from_s3.py.)
sources="$work/zip-sources"
mkdir -p "$sources"
printf 'PK\005\006%018d' 0 >"$sources/codedeploy-trigger_0.0.0_linux_arm64.zip" # an empty zip
cat >"$sources/main.tf" <<'MODULES'
module "zip_from_file" {
  source          = "../examples/terraform"
  name_prefix     = "from-file"
  lambda_zip_path = "codedeploy-trigger_0.0.0_linux_arm64.zip"
}

module "zip_from_s3" {
  source                   = "../examples/terraform"
  name_prefix              = "from-s3"
  lambda_s3_bucket         = "artifacts"
  lambda_s3_key            = "codedeploy-trigger/codedeploy-trigger_0.0.0_linux_arm64.zip"
  lambda_s3_object_version = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
}
MODULES
echo "terraform-check: examples/terraform with the zip from a file and from S3: init (offline) and validate"
export TF_DATA_DIR="$work/data/zip-sources"
if terraform -chdir="$sources" init -backend=false -input=false -no-color \
    >"$work/init-zip-sources.log" 2>&1 \
    && terraform -chdir="$sources" validate -no-color; then
    passed=$((passed + 1))
else
    [[ -s "$work/init-zip-sources.log" ]] && cat "$work/init-zip-sources.log" >&2
    echo "terraform-check: examples/terraform with both zip sources FAILED" >&2
    failed=$((failed + 1))
fi

echo "terraform-check: $passed passed, $failed failed"
[[ $passed -gt 0 && $failed -eq 0 ]]
