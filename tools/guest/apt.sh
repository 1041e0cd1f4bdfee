# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2154
# Private-APT helpers shared by tools/fetch-guest.sh and
# tools/fetch-nested-guest.sh (sourced, not run).  The caller sets $cache,
# $tmp, $KEYRING, $MIRROR and defines die() and say().
#
# Packages come through apt-get with a private configuration (APT_CONFIG
# points at our own apt.conf under $cache/apt, so the host's sources and
# settings are never read), and apt verifies them against the archive's
# signed metadata using the Debian archive keyring.

# apt_setup NAME SUITE ARCH: a private apt configuration under the cache.
apt_setup() {
    local d=$cache/apt/$1
    mkdir -p "$d"/etc/{apt.conf.d,preferences.d,sources.list.d,trusted.gpg.d} \
        "$d"/lists/partial "$d"/cache/archives/partial "$d"/state
    touch "$d/status"
    echo "deb [arch=$3 signed-by=$KEYRING] $MIRROR $2 main" >"$d/etc/sources.list"
    cat >"$d/apt.conf" <<EOC
Dir::Etc "$d/etc";
Dir::Etc::main "apt.conf";
Dir::Etc::Parts "apt.conf.d";
Dir::Etc::SourceList "$d/etc/sources.list";
Dir::Etc::SourceParts "$d/etc/sources.list.d";
Dir::Etc::Preferences "$d/etc/preferences";
Dir::Etc::PreferencesParts "$d/etc/preferences.d";
Dir::Etc::Trusted "$d/etc/trusted.gpg";
Dir::Etc::TrustedParts "$d/etc/trusted.gpg.d";
Dir::State "$d/state";
Dir::State::Lists "$d/lists";
Dir::State::status "$d/status";
Dir::Cache "$d/cache";
APT::Architecture "$3";
APT::Architectures { "$3"; };
Acquire::Languages "none";
Debug::NoLocking "true";
APT::Sandbox::User "root";
EOC
    say "updating package lists for $2 ($3)"
    if ! APT_CONFIG=$d/apt.conf apt-get -q -q update; then
        ls "$d"/lists/*Packages* >/dev/null 2>&1 || die "apt-get update failed for $2"
        say "apt-get update failed for $2; using the lists from an earlier run"
    fi
}

aptc() { local n=$1; shift; APT_CONFIG=$cache/apt/$n/apt.conf "$@"; }

# fetch NAME PKG...: download (or reuse) the packages' .debs into
# $cache/debs/NAME, check each against the SHA256 from the signed index, and
# print their paths.
fetch() {
    local n=$1 pkg field ver arch sha file
    shift
    local dir=$cache/debs/$n
    mkdir -p "$dir"
    (cd "$dir" && aptc "$n" apt-get -q -q download "$@") >&2 || die "apt-get download $* failed"
    for pkg in "$@"; do
        ver="" arch="" sha=""
        while IFS=': ' read -r field val; do
            case $field in
            Version) ver=$val ;;
            Architecture) arch=$val ;;
            SHA256) sha=$val ;;
            esac
        done < <(aptc "$n" apt-cache show --no-all-versions "$pkg")
        file=$dir/${pkg}_${ver//:/%3a}_$arch.deb
        [ -f "$file" ] || die "$file is missing after download"
        echo "$sha  $file" | sha256sum -c --quiet - >&2 || {
            rm -f "$file"
            die "$file does not match the archive's checksum (removed; run again)"
        }
        echo "package $n $pkg $ver $sha" >>"$tmp/packages"
        echo "$file"
    done
}
