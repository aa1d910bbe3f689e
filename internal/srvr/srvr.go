// Package srvr is the srvr four-letter word on a connection a caller opened (plaintext or TLS):
// the one implementation behind version.Detect, the SASL client's judgement of a closed exchange and
// testenv's readiness probes. Parsing the answer is version's (version.ParseSrvr, version.ServerMode).
package srvr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// maxAnswer bounds the answer read: a srvr answer is a few hundred bytes.
const maxAnswer = 64 << 10

// ErrNotZooKeeper: the peer answered, but not with a srvr answer.
var ErrNotZooKeeper = errors.New("srvr: not a ZooKeeper answer")

// Ask sends srvr on conn — without a newline: with one, servers sometimes reset the connection —
// and returns the whole answer, which starts with "Zookeeper version:". ctx's deadline, if any,
// becomes conn's. A member that does not serve (no quorum yet) answers something else: an error
// wrapping ErrNotZooKeeper that quotes the answer's first line.
func Ask(ctx context.Context, conn net.Conn) (string, error) {
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if _, err := conn.Write([]byte("srvr")); err != nil {
		return "", fmt.Errorf("srvr: sending: %w", err)
	}
	b, err := readAnswer(conn)
	if len(b) == 0 {
		if err == nil {
			err = io.EOF
		}
		return "", fmt.Errorf("srvr: the connection closed without an answer: %w", err)
	}
	if !strings.Contains(string(b), "Zookeeper version:") {
		return "", fmt.Errorf("%w: %q", ErrNotZooKeeper, FirstLine(string(b)))
	}
	return string(b), nil
}

// readAnswer reads a srvr answer, at most maxAnswer bytes: until the server closes the
// connection, or as soon as the answer is complete — its "Node count:" line, which follows
// "Mode:", is in (srvr's last line but for a leader's proposal sizes, which no caller reads).
// ZooKeeper writes the answer at once and closes the connection only after it (over TLS, measured
// on 3.8 under load: 1-30 ms after the answer came in), so a probe need not wait for the close.
func readAnswer(r io.Reader) ([]byte, error) {
	b := make([]byte, 0, 1024)
	for len(b) < maxAnswer {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):min(cap(b), maxAnswer)])
		b = b[:len(b)+n]
		if complete(b) || err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// complete reports whether a srvr answer holds its version and a whole "Node count:" line.
func complete(b []byte) bool {
	s := string(b)
	if !strings.HasPrefix(strings.TrimSpace(s), "Zookeeper version:") {
		return false
	}
	i := strings.Index(s, "\nNode count:")
	return i >= 0 && strings.Contains(s[i+1:], "\n")
}

// FirstLine is s's first line, cut to 80 bytes, for quoting an answer in an error.
func FirstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}
