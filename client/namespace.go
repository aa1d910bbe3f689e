package client

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrPath is returned for a path that is not a clean absolute path inside the namespace.
var ErrPath = errors.New("client: invalid path")

// validNamespacePart checks Root and ClusterID ("/flink", "/default", also "/a/b").
func validNamespacePart(p string) error {
	if p == "/" {
		return errors.New(`"/" is not allowed here`)
	}
	return cleanPath(p)
}

// cleanPath accepts "/" and clean absolute paths: no empty, "." or ".." segment, no trailing slash,
// no control characters. It allocates nothing: it runs on every call.
func cleanPath(p string) error {
	if p == "" || p[0] != '/' {
		return fmt.Errorf("%q is not absolute (it must start with /)", p)
	}
	if p == "/" {
		return nil
	}
	if p[len(p)-1] == '/' {
		return fmt.Errorf("%q ends with /", p)
	}
	ascii := true
	for start, i := 1, 1; i <= len(p); i++ {
		if i < len(p) {
			if p[i] >= utf8.RuneSelf {
				ascii = false
			}
			if p[i] != '/' {
				continue
			}
		}
		switch seg := p[start:i]; seg {
		case "":
			return fmt.Errorf("%q has an empty segment", p)
		case ".", "..":
			return fmt.Errorf("%q has a %q segment: paths cannot leave the namespace", p, seg)
		}
		start = i + 1
	}
	if ascii {
		for i := 0; i < len(p); i++ {
			if p[i] < 0x20 || p[i] == 0x7f {
				return fmt.Errorf("%q has a control character", p)
			}
		}
		return nil
	}
	for _, r := range p {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0xfffe || r == 0xffff {
			return fmt.Errorf("%q has a control character", p)
		}
	}
	return nil
}

// namespace maps client paths to server paths under base.
type namespace struct{ base string }

// full maps "/x" to base+"/x" and "/" to base.
func (n namespace) full(p string) (string, error) {
	if err := cleanPath(p); err != nil {
		return "", fmt.Errorf("%w: %w", ErrPath, err)
	}
	if p == "/" {
		return n.base, nil
	}
	return n.base + p, nil
}

// rel maps a server path back into the namespace ("" when it is outside).
func (n namespace) rel(full string) string {
	if full == n.base {
		return "/"
	}
	if strings.HasPrefix(full, n.base+"/") {
		return full[len(n.base):]
	}
	return ""
}

// chain returns the prefixes of base, shortest first ("/flink", "/flink/default").
func (n namespace) chain() []string {
	var out []string
	for i := 1; i < len(n.base); i++ {
		if n.base[i] == '/' {
			out = append(out, n.base[:i])
		}
	}
	return append(out, n.base)
}
