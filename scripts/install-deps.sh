#!/usr/bin/env bash
# install-deps.sh — installs what zksecure's tests and demo need. Idempotent: safe to run again, and
# fast (well under a second) when everything is already there.
#
#   * Debian (bookworm) packages, system-wide: zookeeper (3.8), krb5-kdc, krb5-admin-server, krb5-user,
#     openssl, a JDK (javac is needed to compile the Java peer programs at test time), Curator 5.4 and
#     faketime (a real KDC with a skewed clock, for the clock-skew check's tests), Prometheus (the
#     monitor's tests scrape it with a real server; started by the tests, never as a service) and
#     Samba's AD domain controller (samba, samba-ad-dc, samba-ad-provision: an Active Directory KDC for
#     the SASL tests; nothing starts by itself, testenv runs it in a private network namespace).
#   * ZooKeeper 3.4.13 jars from Debian bullseye and ZooKeeper 3.9.3 jars from Debian trixie, fetched
#     with `apt-get download` under a private apt state and unpacked with `dpkg -x` into $ZKSECURE_CACHE
#     (default: <repo>/.cache/zk34 and .cache/zk39). Never installed system-wide.
#
# Nothing is downloaded from anywhere but Debian's archive.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${ZKSECURE_CACHE:-$repo/.cache}
zk34=$cache/zk34
zk39=$cache/zk39

say() { printf 'install-deps: %s\n' "$*" >&2; }

sudo_=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_=(sudo); else
    say "not root and no sudo: install the Debian packages listed in $0 by hand"; fi
fi

# --- 1. Debian packages (bookworm) ----------------------------------------------------------------
# Each entry: a file that proves the package is there, then the package.
need=()
check() { [ -e "$1" ] || need+=("$2"); }
check /usr/share/java/zookeeper.jar           zookeeper
check /usr/sbin/krb5kdc                        krb5-kdc
check /usr/sbin/kadmin.local                   krb5-admin-server
check /usr/bin/kinit                           krb5-user
check /usr/bin/openssl                         openssl
check /usr/share/java/curator-recipes.jar      libcurator-recipes-java
check /usr/share/java/curator-framework.jar    libcurator-framework-java
check /usr/share/java/curator-client.jar       libcurator-client-java
check /usr/share/java/slf4j-log4j12.jar        libslf4j-java
check /usr/share/java/log4j-1.2.jar            liblog4j1.2-java
check /usr/share/java/netty-codec.jar          libnetty-java
check /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 faketime   # a KDC with a skewed clock, for tests
check /usr/sbin/nft                            nftables  # packet faults inside a private network namespace
check /usr/sbin/ip                             iproute2  # named hosts on loopback addresses
check /usr/bin/unshare                         util-linux
check /usr/bin/setpriv                         util-linux
check /usr/bin/prometheus                      prometheus  # a real Prometheus scrapes zk-secure-check --watch in the tests
check /usr/sbin/samba                          samba               # Active Directory KDC (testenv.StartAD)
check /usr/share/samba/setup/provision.ldif    samba-ad-provision
check /usr/share/doc/samba-ad-dc/copyright     samba-ad-dc         # metapackage: what an AD DC needs
if ! command -v javac >/dev/null 2>&1; then need+=(default-jdk-headless); fi

if [ ${#need[@]} -gt 0 ]; then
  say "installing Debian packages: ${need[*]}"
  # apt-get update may warn about third-party sources this machine cannot reach; the install
  # below is what must succeed.
  "${sudo_[@]}" apt-get update -qq || say "apt-get update reported errors; trying the install anyway"
  DEBIAN_FRONTEND=noninteractive "${sudo_[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- 2. Older and newer ZooKeeper servers from other Debian releases, private ------------------------
# fetch_release DEST SUITE PROOF PACKAGE... downloads the packages of Debian SUITE with `apt-get download`
# under a private apt state (never installed system-wide) and unpacks them with `dpkg -x` into DEST/root.
# DEST/.complete marks a finished fetch; PROOF is a file under DEST/root/usr/share/java that must exist.
fetch_release() {
  local dest=$1 suite=$2 proof=$3; shift 3
  [ -f "$dest/.complete" ] && return 0
  say "fetching $* from Debian $suite into $dest"
  local state=$cache/apt-$suite
  rm -rf "$dest" "$state"
  mkdir -p "$state"/{lists/partial,archives/partial,etc/parts,etc/prefs} "$dest"
  # The bookworm sources tell us which mirror this machine uses; the other releases live on the same one.
  local mirror
  mirror=$(grep -hoE 'https?://[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
    | grep -v security | head -n1 || true)
  if [ -z "$mirror" ]; then
    mirror=$(grep -hoE '^URIs: *https?://[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 | sed 's/^URIs: *//' || true)
  fi
  mirror=${mirror:-http://deb.debian.org/debian}
  mirror=${mirror%/}
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-$suite-stable.gpg] $mirror $suite main" > "$state/etc/sources.list"
  # Dir::Etc::Parts points at an empty folder: the image's apt.conf.d hooks delete cached .debs after
  # every update and install, which would delete what `apt-get download` just fetched.
  cat > "$state/apt.conf" <<CONF
Dir::Etc::SourceList "$state/etc/sources.list";
Dir::Etc::SourceParts "$state/etc/parts";
Dir::Etc::Parts "$state/etc/parts";
Dir::Etc::Preferences "$state/etc/prefs/none";
Dir::Etc::PreferencesParts "$state/etc/prefs";
Dir::State "$state";
Dir::State::Lists "$state/lists";
Dir::State::status "$state/status";
Dir::Cache "$state";
Dir::Cache::Archives "$state/archives";
APT::Architecture "amd64";
Acquire::Languages "none";
APT::Sandbox::User "root";
CONF
  : > "$state/status"
  (
    export APT_CONFIG=$state/apt.conf
    apt-get update -qq
    cd "$state/archives" && apt-get download -qq "$@"
  )
  local deb
  for deb in "$state"/archives/*.deb; do dpkg -x "$deb" "$dest/root"; done
  if [ ! -e "$dest/root/usr/share/java/$proof" ]; then say "no $proof in the $suite packages"; exit 1; fi
  rm -rf "$state"
  touch "$dest/.complete"
  say "jars from Debian $suite in $dest/root/usr/share/java"
}

# ZooKeeper 3.4.13 (bullseye): the server zksecure must still speak SASL to (no TLS).
fetch_release "$zk34" bullseye zookeeper-3.4.13.jar \
  libzookeeper-java libslf4j-java liblog4j1.2-java libjline-java
# ZooKeeper 3.9.3 (trixie) with every jar its server needs (testenv puts all of them, its own
# zookeeper-jute.jar first, ahead of zookeeper.jar: the jar's manifest names the system 3.8 jute).
fetch_release "$zk39" trixie zookeeper-3.9.3.jar \
  libzookeeper-java libnetty-java libslf4j-java liblog4j1.2-java libcommons-cli-java libcommons-io-java \
  libdropwizard-metrics-java libsnappy-java libjackson2-databind-java libjackson2-core-java libjackson2-annotations-java
