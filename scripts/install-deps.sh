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
#   * ZooKeeper 3.4.13 jars from Debian bullseye, fetched with `apt-get download` under a private apt
#     state and unpacked with `dpkg -x` into $ZKSECURE_CACHE (default: <repo>/.cache/zk34). Never
#     installed system-wide.
#
# Nothing is downloaded from anywhere but Debian's archive.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${ZKSECURE_CACHE:-$repo/.cache}
zk34=$cache/zk34

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

# --- 2. ZooKeeper 3.4.13 from bullseye, private -----------------------------------------------------
if [ -f "$zk34/.complete" ]; then
  exit 0
fi
say "fetching ZooKeeper 3.4.13 jars from Debian bullseye into $zk34"
state=$cache/apt-bullseye
rm -rf "$zk34" "$state"
mkdir -p "$state"/{lists/partial,archives/partial,etc/parts,etc/prefs} "$zk34"
# The bookworm sources tell us which mirror this machine uses; bullseye lives on the same one.
mirror=$(grep -hoE 'https?://[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
  | grep -v security | head -n1 || true)
if [ -z "$mirror" ]; then
  mirror=$(grep -hoE '^URIs: *https?://[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 | sed 's/^URIs: *//' || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}
echo "deb [signed-by=/usr/share/keyrings/debian-archive-bullseye-stable.gpg] $mirror bullseye main" > "$state/etc/sources.list"
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
export APT_CONFIG=$state/apt.conf
apt-get update -qq
pkgs=(libzookeeper-java libslf4j-java liblog4j1.2-java libjline-java)
(cd "$state/archives" && apt-get download -qq "${pkgs[@]}")
for deb in "$state"/archives/*.deb; do dpkg -x "$deb" "$zk34/root"; done
jar=$(ls "$zk34"/root/usr/share/java/zookeeper-3.4*.jar 2>/dev/null | head -n1)
if [ -z "$jar" ]; then say "no zookeeper-3.4 jar in the bullseye packages"; exit 1; fi
rm -rf "$state"
touch "$zk34/.complete"
say "ZooKeeper 3.4 jars in $zk34/root/usr/share/java"
