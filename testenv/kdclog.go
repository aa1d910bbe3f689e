package testenv

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Issued counts the tickets the KDC has issued to client ("name" in the KDC's realm, or
// "name@REALM") since it started, by service principal, from its log: "krbtgt/REALM@REALM" counts
// the logins (AS exchanges), every other service principal the service tickets (TGS exchanges).
// A test that asserts how often a client asks the KDC compares two counts.
func (k *KDC) Issued(client string) (map[string]int, error) {
	f, err := os.Open(k.LogPath())
	if err != nil {
		return nil, fmt.Errorf("testenv: KDC log: %w", err)
	}
	defer f.Close()
	// krb5kdc: "... AS_REQ (...) 127.0.0.1: ISSUE: authtime ..., etypes {...}, client@R for krbtgt/R@R"
	marker := ", " + k.Principal(client) + " for "
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, ": ISSUE: ") {
			continue
		}
		if i := strings.LastIndex(line, marker); i >= 0 {
			service, _, _ := strings.Cut(line[i+len(marker):], ",")
			out[strings.TrimSpace(service)]++
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("testenv: reading the KDC log: %w", err)
	}
	return out, nil
}
