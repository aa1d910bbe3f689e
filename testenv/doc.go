// Package testenv starts real security infrastructure for tests and demos: an MIT Kerberos KDC
// (or several, with cross-realm trusts), a Samba Active Directory domain controller (in an isolated
// run), Apache ZooKeeper servers (3.8 from Debian, 3.4.13 from Debian bullseye; standalone or an
// ensemble on loopback, with SASL and/or TLS), TLS material generated in Go, and Java peers
// (the Java ZooKeeper client and Curator) for interoperability tests.
//
// It is the only package of zksecure that starts processes. Every process it starts gets its
// ports from the operating system, keeps its output in a file under its own directory, and is
// stopped by PID when its owner is closed. Two styles of use are supported:
//
//   - from a test: the New* helpers take a testing.TB, register cleanup with t.Cleanup and print
//     the server logs when the test fails;
//   - from a program or a TestMain: the Start* functions return values with an explicit Close.
//
// The packages it needs are installed by scripts/install-deps.sh (Debian packages for the KDC,
// ZooKeeper 3.8, Curator and a JDK; the ZooKeeper 3.4.13 jars are unpacked into a cache folder,
// see [Zk34Dir]). Tests that need them call [Require], which skips nothing: a missing dependency
// is a test failure that names the installer.
package testenv
