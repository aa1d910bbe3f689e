package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// ErrMissingDependency is returned when a program or jar testenv needs is not installed.
var ErrMissingDependency = errors.New("testenv: missing dependency (run scripts/install-deps.sh, or `make deps`)")

const debianJava = "/usr/share/java"

// Zk34Dir returns the folder holding the ZooKeeper 3.4.13 jars unpacked from Debian bullseye by
// scripts/install-deps.sh. It is $ZKSECURE_ZK34_DIR when set, else <repo>/.cache/zk34/root/usr/share/java,
// where <repo> is found from this source file's location (tests and `go run` in this module) or from
// the working directory.
func Zk34Dir() string { return cachedJars("ZKSECURE_ZK34_DIR", "zk34") }

// Zk39Dir returns the folder holding the ZooKeeper 3.9.3 jars (and the jars its server needs) unpacked
// from Debian trixie by scripts/install-deps.sh: $ZKSECURE_ZK39_DIR when set, else
// <repo>/.cache/zk39/root/usr/share/java, found as for [Zk34Dir].
func Zk39Dir() string { return cachedJars("ZKSECURE_ZK39_DIR", "zk39") }

// cachedJars finds the jar folder install-deps.sh unpacked into <repo>/.cache/<name>.
func cachedJars(env, name string) string {
	if d := os.Getenv(env); d != "" {
		return d
	}
	rel := filepath.Join(".cache", name, "root", "usr", "share", "java")
	var candidates []string
	if _, file, _, ok := runtime.Caller(0); ok {
		candidates = append(candidates, filepath.Join(filepath.Dir(filepath.Dir(file)), rel))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			candidates = append(candidates, filepath.Join(d, rel))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "zookeeper.jar")); err == nil {
			return c
		}
	}
	if len(candidates) > 0 {
		return candidates[0]
	}
	return rel
}

// Check reports every dependency of testenv that is missing, as one error wrapping
// ErrMissingDependency, or nil when everything is installed.
func Check() error {
	var missing []string
	for _, prog := range []string{"java", "javac", "krb5kdc", "kdb5_util", "kadmin.local", "nft", "ip", "unshare", "setpriv"} {
		if _, err := lookPath(prog); err != nil {
			missing = append(missing, prog)
		}
	}
	for _, jar := range []string{"zookeeper.jar", "zookeeper-jute.jar", "slf4j-log4j12.jar", "log4j-1.2.jar",
		"netty-codec.jar", "netty-resolver.jar", "netty-transport-native-unix-common.jar",
		"curator-recipes.jar", "curator-framework.jar", "curator-client.jar"} {
		if _, err := os.Stat(filepath.Join(debianJava, jar)); err != nil {
			missing = append(missing, filepath.Join(debianJava, jar))
		}
	}
	if _, err := os.Stat(faketimeLib); err != nil {
		missing = append(missing, faketimeLib+" (faketime)")
	}
	if _, err := os.Stat(filepath.Join(Zk34Dir(), "zookeeper.jar")); err != nil {
		missing = append(missing, "ZooKeeper 3.4 jars in "+Zk34Dir())
	}
	for _, jar := range zk39Jars {
		if _, err := os.Stat(filepath.Join(Zk39Dir(), jar)); err != nil {
			missing = append(missing, "ZooKeeper 3.9 jar "+filepath.Join(Zk39Dir(), jar))
			break
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrMissingDependency, strings.Join(missing, ", "))
	}
	return nil
}

// Require fails the test at once when a dependency is missing. It never skips: a test environment
// that silently skips is a test suite that silently proves nothing.
func Require(t TB) {
	t.Helper()
	if err := Check(); err != nil {
		t.Fatal(err)
	}
}

// lookPath finds a program on PATH or in the sbin folders, which a non-root PATH often lacks.
func lookPath(prog string) (string, error) {
	if p, err := exec.LookPath(prog); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, prog)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s not found", ErrMissingDependency, prog)
}
