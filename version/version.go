// Package version knows which ZooKeeper each ensemble member runs and how its port speaks: it
// parses the srvr four-letter word (including Debian's odd version suffixes), compares versions,
// and Detect probes one member — reachable or not, plaintext or TLS, version, certificate chain —
// with errors that say why a transport cannot work (TLS against 3.4, a plaintext port asked for TLS,
// a TLS port asked for plaintext).
package version

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/zksecure/zksecure/internal/srvr"
)

// Version is a ZooKeeper release. The zero value is "unknown" and AtLeast nothing.
type Version struct {
	major, minor, patch int
	raw                 string
}

// ErrParse is returned for text that holds no ZooKeeper version.
var ErrParse = errors.New("version: cannot parse")

// Parse reads a version from "3.8.0", "3.8.0-${mvngit.commit.id}, built on ...", "3.4.13-6--1",
// or a whole srvr first line "Zookeeper version: 3.8.0-..., built on ...".
func Parse(s string) (Version, error) {
	t := strings.TrimSpace(s)
	if i := strings.Index(strings.ToLower(t), "version:"); i >= 0 {
		t = strings.TrimSpace(t[i+len("version:"):])
	}
	if i := strings.IndexAny(t, ", \t\n"); i >= 0 {
		t = t[:i]
	}
	raw := t
	// The numeric part ends at the first character that is neither a digit nor a dot.
	end := 0
	for end < len(t) && (t[end] >= '0' && t[end] <= '9' || t[end] == '.') {
		end++
	}
	parts := strings.Split(strings.TrimSuffix(t[:end], "."), ".")
	if len(parts) < 2 || len(parts) > 4 {
		return Version{}, fmt.Errorf("%w: %q", ErrParse, s)
	}
	nums := make([]int, 3)
	for i := 0; i < len(parts) && i < 3; i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil || n > 1000 {
			return Version{}, fmt.Errorf("%w: %q", ErrParse, s)
		}
		nums[i] = n
	}
	if nums[0] == 0 && nums[1] == 0 {
		return Version{}, fmt.Errorf("%w: %q", ErrParse, s)
	}
	return Version{major: nums[0], minor: nums[1], patch: nums[2], raw: raw}, nil
}

// ParseSrvr reads the version from a srvr answer ("Zookeeper version: ..." on its first line).
func ParseSrvr(out string) (Version, error) {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "Zookeeper version:") {
			return Parse(line)
		}
	}
	return Version{}, fmt.Errorf("%w: no \"Zookeeper version:\" line in srvr output %q", ErrParse, srvr.FirstLine(out))
}

// ServerMode returns the "Mode:" of a srvr answer (standalone, leader, follower, observer), or "".
func ServerMode(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Mode:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// IsZero reports whether v is the unknown version.
func (v Version) IsZero() bool { return v.major == 0 && v.minor == 0 && v.patch == 0 }

// AtLeast reports whether v ≥ major.minor.patch.
func (v Version) AtLeast(major, minor, patch int) bool {
	if v.IsZero() {
		return false
	}
	if v.major != major {
		return v.major > major
	}
	if v.minor != minor {
		return v.minor > minor
	}
	return v.patch >= patch
}

// SupportsTLS reports whether the server can have a TLS client port (3.5.0 and later).
func (v Version) SupportsTLS() bool { return v.AtLeast(3, 5, 0) }

// SupportsWhoAmI reports whether the server answers the whoAmI request (3.7.0 and later).
func (v Version) SupportsWhoAmI() bool { return v.AtLeast(3, 7, 0) }

// String is "major.minor.patch", or "unknown".
func (v Version) String() string {
	if v.IsZero() {
		return "unknown"
	}
	return fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.patch)
}

// Raw is the version as the server printed it, suffix included ("3.4.13-6--1").
func (v Version) Raw() string { return v.raw }
