package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// CacheDir is where testenv keeps what is slow to make and safe to reuse (provisioned Samba
// domains): $ZKSECURE_CACHE when set, else the repository's .cache folder (git-ignored, where
// scripts/install-deps.sh puts the ZooKeeper 3.4 jars), else a folder under the user cache.
func CacheDir() string {
	if d := os.Getenv("ZKSECURE_CACHE"); d != "" {
		return d
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		repo := filepath.Dir(filepath.Dir(file))
		if _, err := os.Stat(filepath.Join(repo, "go.mod")); err == nil {
			return filepath.Join(repo, ".cache")
		}
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "zksecure")
	}
	return filepath.Join(os.TempDir(), "zksecure-cache")
}

var templateMu sync.Mutex // one provisioning at a time in this process

// templateDC is the NetBIOS name of the DC in every template (a copy can run on a host of any
// name: only its KDC serves, and it never looks itself up).
const templateDC = "dc1"

// adTemplate returns a folder with a provisioned domain for realm: made once (samba-tool domain
// provision, about 5 s) under CacheDir()/samba, keyed by realm and Samba version, then copied by
// every StartAD. Parallel test processes may both provision; the
// first to finish wins and the other uses its folder.
func adTemplate(ctx context.Context, realm, netbios, ip string) (string, error) {
	templateMu.Lock()
	defer templateMu.Unlock()
	ver, err := runTool(ctx, nil, "", "samba", "-V")
	if err != nil {
		return "", err
	}
	key := sanitize(strings.ToLower(realm + "-" + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(ver), "Version "))))
	root := filepath.Join(CacheDir(), "samba")
	final := filepath.Join(root, key)
	if _, err := os.Stat(filepath.Join(final, ".complete")); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("testenv: Samba template cache: %w", err)
	}
	tmp, err := os.MkdirTemp(root, key+".tmp-")
	if err != nil {
		return "", fmt.Errorf("testenv: Samba template cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	tool, err := lookPath("samba-tool")
	if err != nil {
		return "", err
	}
	if _, err := runTool(ctx, nil, "", tool, "domain", "provision", "--realm="+realm, "--domain="+netbios,
		"--server-role=dc", "--dns-backend=NONE", "--adminpass="+adminPassword, "--targetdir="+tmp,
		"--host-name="+templateDC, "--host-ip="+ip, "--option=interfaces="+ip, "--option=bind interfaces only=yes"); err != nil {
		return "", fmt.Errorf("testenv: provisioning Samba domain %s: %w", realm, err)
	}
	// Test accounts: no password expiry, ageing or history to trip over.
	if _, err := runTool(ctx, nil, "", tool, "domain", "passwordsettings", "set", "--min-pwd-age=0", "--max-pwd-age=0",
		"--history-length=0", "-s", filepath.Join(tmp, "etc", "smb.conf")); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		if _, serr := os.Stat(filepath.Join(final, ".complete")); serr == nil {
			return final, nil // another process made it first
		}
		os.RemoveAll(final) // a half-made folder of a run that died
		if err := os.Rename(tmp, final); err != nil {
			return "", fmt.Errorf("testenv: Samba template cache: %w", err)
		}
	}
	return final, nil
}
