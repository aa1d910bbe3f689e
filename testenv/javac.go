package testenv

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

//go:embed java/*.java
var javaSources embed.FS

var compileMu sync.Mutex

// compiledJava compiles the embedded Java peers once per source version into the user's cache folder
// and returns the folder of the classes. Concurrent test binaries are safe: each compiles into its own
// folder and renames it into place.
func compiledJava(ctx context.Context) (string, error) {
	compileMu.Lock()
	defer compileMu.Unlock()
	h := sha256.New()
	entries, err := javaSources.ReadDir("java")
	if err != nil {
		return "", err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		b, _ := javaSources.ReadFile("java/" + e.Name())
		h.Write([]byte(e.Name()))
		h.Write(b)
	}
	h.Write([]byte(strings.Join(clientClasspath(), ":")))
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dest := filepath.Join(base, "zksecure-testenv", "java-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dest, ".complete")); err == nil {
		return dest, nil
	}
	javac, err := lookPath("javac")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), "compiling-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	args := []string{javac, "-nowarn", "-encoding", "UTF-8", "-cp", strings.Join(clientClasspath(), ":"), "-d", tmp}
	for _, e := range entries {
		b, _ := javaSources.ReadFile("java/" + e.Name())
		src := filepath.Join(tmp, e.Name())
		if err := os.WriteFile(src, b, 0o644); err != nil {
			return "", err
		}
		args = append(args, src)
	}
	if _, err := runTool(ctx, nil, "", args...); err != nil {
		return "", fmt.Errorf("testenv: compiling the Java peers: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dest); err != nil {
		if _, statErr := os.Stat(filepath.Join(dest, ".complete")); statErr == nil {
			return dest, nil // another process won the race
		}
		return "", err
	}
	return dest, nil
}
