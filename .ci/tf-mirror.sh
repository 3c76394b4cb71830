#!/usr/bin/env bash
# Finds the local filesystem mirror of Terraform providers, so that
# `terraform init` never has to reach the registry (there is no network).
#
#   bash .ci/tf-mirror.sh                    print the mirror root
#   bash .ci/tf-mirror.sh --cli-config FILE  also write a Terraform CLI config
#                                            to FILE that installs hashicorp/*
#                                            providers from that mirror only
#   source .ci/tf-mirror.sh                  defines tf_mirror_root and
#                                            tf_write_cli_config FILE [ROOT]
#
# The mirror root is the directory that contains registry.terraform.io/.
# Order: $TF_PLUGIN_MIRROR if set (it must hold hashicorp/aws), then
# Terraform's implicit local mirror directories, then a search of the file
# system. Exit status 1 with a message on stderr when there is none.

_tf_mirror_has_aws() {
    # True when $1 is a mirror root holding the hashicorp/aws provider, in the
    # unpacked (VERSION/OS_ARCH/terraform-provider-aws_*) or packed (*.zip) layout.
    local dir="$1/registry.terraform.io/hashicorp/aws"
    [[ -d "$dir" ]] || return 1
    compgen -G "$dir/*/*/terraform-provider-aws_*" >/dev/null \
        || compgen -G "$dir/terraform-provider-aws_*.zip" >/dev/null
}

tf_mirror_root() {
    if [[ -n "${TF_PLUGIN_MIRROR:-}" ]]; then
        if _tf_mirror_has_aws "$TF_PLUGIN_MIRROR"; then
            printf '%s\n' "$TF_PLUGIN_MIRROR"
            return 0
        fi
        echo "tf-mirror: TF_PLUGIN_MIRROR=$TF_PLUGIN_MIRROR has no registry.terraform.io/hashicorp/aws provider" >&2
        return 1
    fi

    # The directories Terraform itself searches as implicit local mirrors.
    local candidate
    for candidate in \
        "${HOME:-/nonexistent}/.terraform.d/plugins" \
        "${XDG_DATA_HOME:-${HOME:-/nonexistent}/.local/share}/terraform/plugins" \
        /usr/local/share/terraform/plugins \
        /usr/share/terraform/plugins; do
        if _tf_mirror_has_aws "$candidate"; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done

    # Anywhere else. Skip virtual file systems, temporary directories and the
    # .terraform/ caches that `terraform init` leaves in working directories:
    # those come and go and are not mirrors anyone set up.
    local os arch found
    os="$(uname -s | tr '[:upper:]' '[:lower:]')"
    case "$(uname -m)" in
        x86_64 | amd64) arch=amd64 ;;
        aarch64 | arm64) arch=arm64 ;;
        *) arch="$(uname -m)" ;;
    esac
    found="$(
        find / \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp \
            -o -path /var/tmp -o -name .terraform \) -prune -o \
            -name 'terraform-provider-aws_*' -path '*/registry.terraform.io/hashicorp/aws/*' \
            -print 2>/dev/null | sort
    )"
    if [[ -n "$found" ]]; then
        local match
        # Prefer a build for this machine's platform.
        match="$(grep -m1 -e "${os}_${arch}" <<<"$found" || true)"
        [[ -n "$match" ]] || match="$(head -n1 <<<"$found")"
        printf '%s\n' "${match%%/registry.terraform.io/*}"
        return 0
    fi

    echo "tf-mirror: no local Terraform provider mirror with hashicorp/aws found" \
        "(looked at \$TF_PLUGIN_MIRROR, ~/.terraform.d/plugins, the XDG data dir," \
        "/usr/local/share/terraform/plugins, /usr/share/terraform/plugins and the whole" \
        "file system); set TF_PLUGIN_MIRROR to the directory that contains registry.terraform.io/" >&2
    return 1
}

tf_write_cli_config() {
    # tf_write_cli_config FILE [ROOT]: a CLI config that installs hashicorp/*
    # from the mirror and nothing from the network (no registry fallback, no
    # version checkpoint).
    local file="$1" root="${2:-}"
    if [[ -z "$root" ]]; then
        root="$(tf_mirror_root)" || return 1
    fi
    cat >"$file" <<CONFIG
disable_checkpoint = true

provider_installation {
  filesystem_mirror {
    path    = "$root"
    include = ["registry.terraform.io/hashicorp/*"]
  }
}
CONFIG
}

# Executed (not sourced): print the root, optionally write the CLI config.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    root="$(tf_mirror_root)"
    if [[ "${1:-}" == "--cli-config" ]]; then
        [[ -n "${2:-}" ]] || { echo "usage: $0 [--cli-config FILE]" >&2; exit 2; }
        tf_write_cli_config "$2" "$root"
    elif [[ $# -gt 0 ]]; then
        echo "usage: $0 [--cli-config FILE]" >&2
        exit 2
    fi
    printf '%s\n' "$root"
fi
