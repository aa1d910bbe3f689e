// Package flinkconf reads a Flink configuration — conf/flink-conf.yaml (flat "key: value", Flink's
// own line rules) or conf/config.yaml (nested standard YAML, Flink 1.19+) — and maps its
// high-availability, ZooKeeper and Kerberos keys onto a client.Config (and the leader-election
// policy onto election.Options), with warnings for what a user most likely got wrong.
package flinkconf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// ErrConf wraps errors in reading or interpreting a Flink configuration.
var ErrConf = errors.New("flinkconf")

// Conf is a Flink configuration as flat keys ("high-availability.zookeeper.quorum").
type Conf struct {
	// Path is the file read ("" when parsed from bytes).
	Path string
	// Nested reports whether the file was standard nested YAML (config.yaml).
	Nested bool
	values map[string]string
	// parseWarnings are lines the flat parser skipped, as Flink would.
	parseWarnings []Warning
}

// Load reads path: config.yaml as nested YAML, flink-conf.yaml with Flink's flat rules; any other
// name is read as nested YAML when it parses as such and has nested maps, else as flat.
func Load(path string) (*Conf, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConf, err)
	}
	var c *Conf
	switch filepath.Base(path) {
	case "flink-conf.yaml":
		c = ParseFlat(b)
	case "config.yaml":
		if c, err = ParseNested(b); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrConf, path, err)
		}
	default:
		if nc, err := ParseNested(b); err == nil && nc.Nested {
			c = nc
		} else {
			c = ParseFlat(b)
		}
	}
	c.Path = path
	return c, nil
}

// ParseFlat parses the legacy flink-conf.yaml format as Flink does: per line, everything after '#'
// is a comment; key and value are split at the first ": "; lines without it are skipped (with a
// warning).
func ParseFlat(b []byte) *Conf {
	c := &Conf{values: map[string]string{}}
	for i, line := range strings.Split(string(b), "\n") {
		conf, _, _ := strings.Cut(line, "#")
		conf = strings.TrimSpace(conf)
		if conf == "" {
			continue
		}
		k, v, ok := strings.Cut(conf, ": ")
		if !ok {
			c.skipped(i+1, conf, "has no \": \"")
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "" || v == "" {
			c.skipped(i+1, conf, "has an empty key or value")
			continue
		}
		c.values[k] = v
	}
	return c
}

// skipped records a line Flink's flat parser skips.
func (c *Conf) skipped(line int, text, why string) {
	c.parseWarnings = append(c.parseWarnings, Warning{Message: fmt.Sprintf("line %d: %q %s, so Flink skips it", line, text, why),
		Fix: `write it as "key: value" (a colon and a space between them), or remove it`})
}

// ParseNested parses standard YAML (config.yaml) and flattens nested maps with dots; lists become
// comma-separated values.
func ParseNested(b []byte) (*Conf, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&root); err != nil {
		if err.Error() == "EOF" {
			return &Conf{values: map[string]string{}, Nested: true}, nil
		}
		return nil, err
	}
	c := &Conf{values: map[string]string{}}
	if len(root.Content) == 0 {
		return c, nil
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: the top level is not a map of keys", top.Line)
	}
	if err := c.flatten("", top); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Conf) flatten(prefix string, n *yaml.Node) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch v.Kind {
		case yaml.MappingNode:
			c.Nested = true
			if err := c.flatten(key, v); err != nil {
				return err
			}
		case yaml.SequenceNode:
			var parts []string
			for _, e := range v.Content {
				if e.Kind != yaml.ScalarNode {
					return fmt.Errorf("line %d: %s: lists of maps are not Flink options", e.Line, key)
				}
				parts = append(parts, e.Value)
			}
			c.values[key] = strings.Join(parts, ",")
		case yaml.ScalarNode:
			c.values[key] = v.Value
		case yaml.AliasNode:
			c.values[key] = v.Alias.Value
		}
	}
	return nil
}

// Get returns a key's value.
func (c *Conf) Get(key string) (string, bool) {
	v, ok := c.values[key]
	return v, ok
}

// Keys returns every key, sorted.
func (c *Conf) Keys() []string {
	out := make([]string, 0, len(c.values))
	for k := range c.values {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// JVMProperties returns the -Dkey=value system properties of the JobManager's JVM options —
// env.java.default-opts.all, env.java.opts.all (or the deprecated env.java.opts when it is not set),
// env.java.default-opts.jobmanager and env.java.opts.jobmanager, later ones winning as on the JVM's
// command line — where Flink deployments set the JAAS file, krb5.conf and the zookeeper.* client
// properties (SASL and TLS).
func (c *Conf) JVMProperties() map[string]string {
	props, _ := c.jvmPropertySources()
	return props
}

// splitArgs splits a JVM options string on spaces, honouring double and single quotes.
func splitArgs(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\''):
			quote = r
		case quote == 0 && (r == ' ' || r == '\t'):
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
