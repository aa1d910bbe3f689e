package zoocfg

import (
	"errors"
	"strconv"
	"strings"
)

// entry is one key=value of a Java properties file, with the line it starts on.
type entry struct {
	key, value string
	line       int
}

// readProperties splits src the way java.util.Properties.load does (ZooKeeper reads zoo.cfg with
// it): '#' and '!' comment lines, '=', ':' or white space between key and value, a trailing odd
// backslash continuing the line, and the \t \n \r \f \uXXXX escapes. Values are trimmed, as
// ZooKeeper's QuorumPeerConfig trims them. Every entry is kept, duplicates included.
func readProperties(src string) ([]entry, error) {
	var out []entry
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		for continues(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		if continues(line) {
			line = line[:len(line)-1]
		}
		k, v, err := splitEntry(line)
		if err != nil {
			return nil, &LineError{Line: start, Msg: err.Error()}
		}
		out = append(out, entry{key: k, value: strings.TrimSpace(v), line: start})
	}
	return out, nil
}

func continues(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitEntry separates key and value at the first unescaped '=', ':' or white space; one '=' or
// ':' after white space belongs to the separator.
func splitEntry(line string) (key, value string, err error) {
	var k strings.Builder
	i := 0
	for i < len(line) {
		c := line[i]
		if c == '\\' {
			r, n, err := unescape(line[i:])
			if err != nil {
				return "", "", err
			}
			k.WriteString(r)
			i += n
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			break
		}
		k.WriteByte(c)
		i++
	}
	rest := strings.TrimLeft(line[i:], " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	var v strings.Builder
	for j := 0; j < len(rest); {
		if rest[j] == '\\' {
			r, n, err := unescape(rest[j:])
			if err != nil {
				return "", "", err
			}
			v.WriteString(r)
			j += n
			continue
		}
		v.WriteByte(rest[j])
		j++
	}
	return k.String(), v.String(), nil
}

// unescape decodes the escape at the start of s (which begins with a backslash) and returns it and
// the bytes it took.
func unescape(s string) (string, int, error) {
	if len(s) < 2 {
		return "", len(s), nil // a lone trailing backslash is dropped, as Java does
	}
	switch s[1] {
	case 't':
		return "\t", 2, nil
	case 'n':
		return "\n", 2, nil
	case 'r':
		return "\r", 2, nil
	case 'f':
		return "\f", 2, nil
	case 'u':
		// The escape's characters are never quoted: they may be part of a password.
		if len(s) < 6 {
			return "", 0, errors.New("malformed \\uXXXX escape (want four hex digits after \\u)")
		}
		n, err := strconv.ParseUint(s[2:6], 16, 16)
		if err != nil {
			return "", 0, errors.New("malformed \\uXXXX escape (want four hex digits after \\u)")
		}
		return string(rune(n)), 6, nil
	}
	return s[1:2], 2, nil
}
