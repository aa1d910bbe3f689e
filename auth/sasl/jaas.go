package sasl

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/zksecure/zksecure/internal/bounded"
)

// Krb5LoginModule is the JAAS login module whose options zksecure reads.
const Krb5LoginModule = "com.sun.security.auth.module.Krb5LoginModule"

// JAASEntry is one login module entry of a JAAS section.
type JAASEntry struct {
	// Module is the login module class, e.g. Krb5LoginModule.
	Module string
	// Flag is required, requisite, sufficient or optional.
	Flag string
	// Options are the module's key=value options, values unquoted.
	Options map[string]string
}

// JAASConfig is a parsed JAAS login configuration: section name → entries, in file order.
type JAASConfig struct {
	Path     string
	Sections map[string][]JAASEntry
}

// ErrJAAS wraps every JAAS configuration error.
var ErrJAAS = errors.New("sasl: JAAS configuration")

// LoadJAAS reads and parses a JAAS file (the file java.security.auth.login.config names).
func LoadJAAS(path string) (*JAASConfig, error) {
	b, err := bounded.ReadFile(path, "JAAS file", bounded.Config)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrJAAS, err)
	}
	c, err := ParseJAAS(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrJAAS, path, err)
	}
	c.Path = path
	return c, nil
}

// ParseJAAS parses the JAAS configuration syntax:
//
//	Name { module.Class flag key=value key="quoted value"; other.Module flag; };
//
// with // and /* */ comments. Errors carry the line number.
func ParseJAAS(src string) (*JAASConfig, error) {
	toks, err := jaasTokens(src)
	if err != nil {
		return nil, err
	}
	c := &JAASConfig{Sections: map[string][]JAASEntry{}}
	p := &jaasParser{toks: toks}
	for !p.done() {
		name := p.next()
		if name.kind != tokWord {
			return nil, p.errorf(name, "expected a section name, found %s", name.describe())
		}
		if t := p.next(); t.text != "{" || t.kind != tokPunct {
			return nil, p.errorf(t, "expected { after section %q", name.text)
		}
		if _, dup := c.Sections[name.text]; dup {
			return nil, p.errorf(name, "section %q appears twice", name.text)
		}
		var entries []JAASEntry
		for {
			t := p.next()
			if t.kind == tokPunct && t.text == "}" {
				break
			}
			if t.kind != tokWord {
				return nil, p.errorf(t, "expected a login module class in section %q, found %s", name.text, t.describe())
			}
			e := JAASEntry{Module: t.text, Options: map[string]string{}}
			f := p.next()
			if f.kind != tokWord {
				return nil, p.errorf(f, "expected a control flag after %s", e.Module)
			}
			switch strings.ToLower(f.text) {
			case "required", "requisite", "sufficient", "optional":
				e.Flag = strings.ToLower(f.text)
			default:
				return nil, p.errorf(f, "control flag %q of %s is not required, requisite, sufficient or optional", f.text, e.Module)
			}
			for {
				k := p.next()
				if k.kind == tokPunct && k.text == ";" {
					break
				}
				if k.kind != tokWord {
					return nil, p.errorf(k, "expected an option or ; in %s, found %s", e.Module, k.describe())
				}
				if eq := p.next(); eq.kind != tokPunct || eq.text != "=" {
					// Not named: a word here may be the rest of an unquoted value with a space.
					return nil, p.errorf(eq, "expected = after an option name in %s (options are key=value; quote a value that has spaces)", e.Module)
				}
				v := p.next()
				if v.kind != tokWord && v.kind != tokString {
					return nil, p.errorf(v, "expected a value for option %s", k.text)
				}
				e.Options[k.text] = v.text
			}
			entries = append(entries, e)
		}
		if t := p.next(); t.kind != tokPunct || t.text != ";" {
			return nil, p.errorf(t, "expected ; after the } of section %q", name.text)
		}
		c.Sections[name.text] = entries
	}
	return c, nil
}

// Krb5Options returns the options of the Krb5LoginModule entry of section name. A missing section
// or a section without that module is an error that lists what the file has.
func (c *JAASConfig) Krb5Options(name string) (map[string]string, error) {
	entries, ok := c.Sections[name]
	if !ok {
		have := make([]string, 0, len(c.Sections))
		for s := range c.Sections {
			have = append(have, s)
		}
		return nil, fmt.Errorf("%w: %s has no section %q (it has: %s); add one, or name another with the login context setting",
			ErrJAAS, c.Path, name, strings.Join(sortedStrings(have), ", "))
	}
	for _, e := range entries {
		if e.Module == Krb5LoginModule {
			return e.Options, nil
		}
	}
	return nil, fmt.Errorf("%w: section %q of %s has no %s entry; zksecure logs in with Kerberos only", ErrJAAS, name, c.Path, Krb5LoginModule)
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokWord
	tokString
	tokPunct
)

type jaasTok struct {
	kind tokKind
	text string
	line int
}

func jaasTokens(src string) ([]jaasTok, error) {
	var toks []jaasTok
	line := 1
	rs := []rune(src)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case r == '\n':
			line++
			i++
		case unicode.IsSpace(r):
			i++
		case r == '/' && i+1 < len(rs) && rs[i+1] == '/':
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
		case r == '/' && i+1 < len(rs) && rs[i+1] == '*':
			start := line
			i += 2
			for i < len(rs) && !(rs[i] == '*' && i+1 < len(rs) && rs[i+1] == '/') {
				if rs[i] == '\n' {
					line++
				}
				i++
			}
			if i >= len(rs) {
				return nil, fmt.Errorf("line %d: unterminated /* comment", start)
			}
			i += 2
		case r == '{' || r == '}' || r == ';' || r == '=':
			toks = append(toks, jaasTok{tokPunct, string(r), line})
			i++
		case r == '"' || r == '\'':
			q, start := r, line
			var b strings.Builder
			i++
			for i < len(rs) && rs[i] != q {
				if rs[i] == '\\' && i+1 < len(rs) {
					i++
				}
				if rs[i] == '\n' {
					line++
				}
				b.WriteRune(rs[i])
				i++
			}
			if i >= len(rs) {
				return nil, fmt.Errorf("line %d: unterminated quoted value", start)
			}
			i++
			toks = append(toks, jaasTok{tokString, b.String(), start})
		default:
			start := i
			for i < len(rs) && !unicode.IsSpace(rs[i]) && !strings.ContainsRune("{};=\"'", rs[i]) &&
				!(rs[i] == '/' && i+1 < len(rs) && (rs[i+1] == '/' || rs[i+1] == '*')) {
				i++
			}
			toks = append(toks, jaasTok{tokWord, string(rs[start:i]), line})
		}
	}
	return toks, nil
}

type jaasParser struct {
	toks []jaasTok
	pos  int
}

// describe names a token in an error without quoting a value: a quoted value may be a password
// (DigestLoginModule's password="...").
func (t jaasTok) describe() string {
	switch t.kind {
	case tokString:
		return "a quoted value"
	case tokPunct:
		return fmt.Sprintf("%q", t.text)
	case tokEOF:
		return "the end of the file"
	}
	return "a word"
}

func (p *jaasParser) done() bool { return p.pos >= len(p.toks) }

func (p *jaasParser) next() jaasTok {
	if p.done() {
		line := 1
		if len(p.toks) > 0 {
			line = p.toks[len(p.toks)-1].line
		}
		return jaasTok{kind: tokEOF, text: "end of file", line: line}
	}
	t := p.toks[p.pos]
	p.pos++
	return t
}

func (p *jaasParser) errorf(t jaasTok, format string, args ...any) error {
	return fmt.Errorf("line %d: %s", t.line, fmt.Sprintf(format, args...))
}
