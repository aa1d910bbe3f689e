// Package zoocfg reads a ZooKeeper server configuration (zoo.cfg) as Flink's
// bin/start-zookeeper-quorum.sh uses it — server.X=host:peerPort:leaderPort lines, clientPort,
// dataDir and tuning keys — and decides, key by key, how zk-testenv can start the same quorum:
// what it honours, what it passes through to every member unchanged, and what it cannot honour
// (an error naming the line and saying what to do). It also builds the same description from the
// high-availability.zookeeper.quorum of a Flink configuration.
//
// It is pure logic: the checks that need the machine (ports already taken, a dataDir that cannot
// be written) go through a [Probe].
package zoocfg

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrConfig is wrapped by every error about the content of a configuration.
var ErrConfig = errors.New("zoocfg")

// MaxSize bounds what Load reads; a zoo.cfg is a few hundred bytes.
const MaxSize = 1 << 20

// MaxServers bounds the server.X lines: every member is a JVM on this machine.
const MaxServers = 15

// DefaultClientPort, DefaultPeerPort and DefaultLeaderPort are what Flink's quorum peer uses when
// zoo.cfg leaves them out (clientPort, or the ports of a server.X=host line).
const (
	DefaultClientPort = 2181
	DefaultPeerPort   = 2888
	DefaultLeaderPort = 3888
)

// LineError is a problem in one line (or one key) of a configuration file.
type LineError struct {
	// Path is the file ("" when parsed from bytes); Line the line, from 1 (0 when the problem is
	// about a key rather than a line, as for a Flink quorum).
	Path string
	Line int
	// Key and Value are the entry, when the line has one.
	Key, Value string
	// Msg says what is wrong and what to do.
	Msg string
}

func (e *LineError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
	} else {
		b.WriteString("zoo.cfg")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	switch {
	case e.Key != "" && secretKey(e.Key):
		fmt.Fprintf(&b, " (%s=[redacted])", e.Key) // a password or secret: never shown
	case e.Key != "":
		fmt.Fprintf(&b, " (%s=%s)", e.Key, e.Value)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// secretKey reports whether a key's value may be a secret (…password and misspellings such as
// …pasword, …passwd, …pwd, …secret).
func secretKey(key string) bool {
	k := strings.ToLower(key)
	for _, s := range []string{"passw", "pasw", "pwd", "secret"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// Unwrap makes every LineError match ErrConfig.
func (e *LineError) Unwrap() error { return ErrConfig }

// Server is one server.X line.
type Server struct {
	// ID is X, the server id (myid).
	ID int
	// Host is the address as written, lower-cased ("localhost", "127.0.0.1", "zk1.flink.test").
	Host string
	// PeerPort and LeaderPort are the quorum and leader-election ports; zero only for a server
	// that came from a Flink quorum on loopback (any free port will do).
	PeerPort, LeaderPort int
	// ClientPort is the server's own client port (";port" after the ports, ZooKeeper 3.5 syntax,
	// or the port of a Flink quorum entry); zero means the file's clientPort.
	ClientPort int
	// SecurePort is the server's own TLS client port (only from a Flink quorum with TLS); zero
	// means the file's secureClientPort.
	SecurePort int
	// Line is where the server is defined (0 for a Flink quorum entry).
	Line int
	// Raw is the value as written.
	Raw string
}

// Loopback reports whether the server is on this machine's loopback (localhost, 127.0.0.1,
// ::1), where members share one address and need ports of their own.
func (s Server) Loopback() bool { return isLoopback(s.Host) }

func isLoopback(h string) bool {
	switch strings.ToLower(h) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// Entry is a key passed through to every member's zoo.cfg unchanged.
type Entry struct {
	Key, Value string
	Line       int
}

// Security is what the file says about authentication, honoured as zk-testenv's own options.
type Security struct {
	// RemoveHostFromPrincipal and RemoveRealmFromPrincipal are kerberos.remove*FromPrincipal.
	RemoveHostFromPrincipal, RemoveRealmFromPrincipal bool
	// EnforceSASL is enforce.auth.enabled=true with enforce.auth.schemes=sasl,
	// sessionRequireClientSASLAuth=true or requireClientAuthScheme=sasl.
	EnforceSASL bool
	// ClientAuth is ssl.clientAuth ("need", "want", "none"), empty when not set.
	ClientAuth string
}

// Config is a zoo.cfg as zk-testenv will honour it.
type Config struct {
	// Path is the file read ("" when parsed from bytes).
	Path string
	// Servers are the server.X lines, in file order.
	Servers []Server
	// ClientPort and SecureClientPort are clientPort and secureClientPort; zero when absent.
	// Without either, ClientPort is DefaultClientPort, as Flink's quorum peer sets it.
	ClientPort, SecureClientPort int
	// TickTime and MaxSessionTimeout are tickTime and maxSessionTimeout; zero when absent.
	TickTime, MaxSessionTimeout time.Duration
	// DataDir and DataLogDir are dataDir and dataLogDir, absolute; empty when absent.
	DataDir, DataLogDir string
	// Pass are the keys passed through to every member unchanged, in file order.
	Pass []Entry
	// Security is what the file says about authentication.
	Security Security
	// Notes say where zk-testenv honours a line differently from a ZooKeeper reading the file on
	// its own host, one sentence each.
	Notes []string

	lines map[string]int // key → line, for errors about keys
}

// Line returns the line a key was set on, 0 when it was not.
func (c *Config) Line(key string) int { return c.lines[key] }

// Load reads a zoo.cfg (at most MaxSize bytes) and parses it; relative dataDir and dataLogDir
// are taken relative to the current directory, as a server started here would.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConfig, path, err)
	}
	if len(b) > MaxSize {
		return nil, &LineError{Path: path, Msg: fmt.Sprintf("larger than %d bytes: this is not a zoo.cfg", MaxSize)}
	}
	return Parse(path, b)
}

// Parse parses a zoo.cfg; path names it in errors. Every problem found is returned, joined, each a
// *LineError.
func Parse(path string, b []byte) (*Config, error) {
	if len(b) > MaxSize {
		return nil, &LineError{Path: path, Msg: fmt.Sprintf("larger than %d bytes: this is not a zoo.cfg", MaxSize)}
	}
	entries, err := readProperties(string(b))
	if err != nil {
		var le *LineError
		if errors.As(err, &le) {
			le.Path = path
		}
		return nil, err
	}
	p := &parser{c: &Config{Path: path, lines: map[string]int{}}, path: path, ids: map[int]int{}}
	for _, e := range entries {
		p.entry(e)
	}
	p.finish()
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return p.c, nil
}

type parser struct {
	c    *Config
	path string
	errs []error
	ids  map[int]int // server id → line
	sec  struct {
		enforceEnabled, enforceSchemesSASL bool
		enforceLine                        int
	}
}

func (p *parser) fail(e entry, format string, args ...any) {
	p.errs = append(p.errs, &LineError{Path: p.path, Line: e.line, Key: e.key, Value: e.value, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) note(format string, args ...any) {
	p.c.Notes = append(p.c.Notes, fmt.Sprintf(format, args...))
}

func (p *parser) entry(e entry) {
	if e.key == "" {
		p.fail(e, "a value without a key; remove the line")
		return
	}
	if strings.HasPrefix(e.key, "server.") {
		p.server(e) // a repeated id is refused there, however it is spelled (server.1, server.01)
		return
	}
	if first, dup := p.c.lines[e.key]; dup {
		p.fail(e, "%s is set again (first on line %d), and ZooKeeper would silently take the last one; keep one", e.key, first)
		return
	}
	p.c.lines[e.key] = e.line
	p.key(e)
}

// finish checks what needs the whole file: at least one server, the client ports, the enforce
// pair, and ports that collide.
func (p *parser) finish() {
	c := p.c
	if len(c.Servers) == 0 && len(p.errs) == 0 {
		p.errs = append(p.errs, &LineError{Path: p.path, Msg: "no server.X line: add one per ZooKeeper member, server.1=host:2888:3888 (as Flink's conf/zoo.cfg has)"})
	}
	if len(c.Servers) > MaxServers {
		p.errs = append(p.errs, &LineError{Path: p.path, Line: c.Servers[MaxServers].Line,
			Msg: fmt.Sprintf("%d servers: zk-testenv starts at most %d (every member is a JVM on this machine)", len(c.Servers), MaxServers)})
	}
	if c.ClientPort == 0 && c.SecureClientPort == 0 {
		c.ClientPort = DefaultClientPort
		p.note("clientPort is not set: members listen on %d, as Flink's quorum peer sets it", DefaultClientPort)
	}
	if p.sec.enforceEnabled {
		if !p.sec.enforceSchemesSASL {
			p.errs = append(p.errs, &LineError{Path: p.path, Line: p.sec.enforceLine, Key: "enforce.auth.enabled", Value: "true",
				Msg: "enforce.auth.enabled needs enforce.auth.schemes=sasl in zk-testenv (the only scheme it enforces); add it"})
		} else {
			c.Security.EnforceSASL = true
		}
	}
	if len(p.errs) == 0 {
		p.checkDomains()
		p.checkPorts()
	}
}

// checkDomains refuses a mix of loopback and named servers, and named servers in different domains.
func (p *parser) checkDomains() {
	loop, named := -1, -1
	for i, s := range p.c.Servers {
		if s.Loopback() && loop < 0 {
			loop = i
		} else if !s.Loopback() && named < 0 {
			named = i
		}
	}
	if loop >= 0 && named >= 0 {
		l, n := p.c.Servers[loop], p.c.Servers[named]
		later := p.c.Servers[max(loop, named)]
		p.errs = append(p.errs, &LineError{Path: p.path, Line: later.Line, Key: fmt.Sprintf("server.%d", later.ID), Value: later.Raw,
			Msg: fmt.Sprintf("mixes loopback (server.%d=%s) and named hosts (server.%d=%s): use host names for every server (zk-testenv makes them in a private network) or localhost for every one",
				l.ID, l.Host, n.ID, n.Host)})
		return
	}
	if _, err := p.c.Domain(); err != nil {
		p.errs = append(p.errs, err)
	}
}

// Domain returns the DNS domain the named servers share ("flink.test" for zk1.flink.test, …):
// zk-testenv's named hosts are <label>.<domain>. It is empty when every server is on loopback or
// named by one label.
func (c *Config) Domain() (string, error) {
	domain, from := "", Server{}
	for _, s := range c.Servers {
		if s.Loopback() {
			continue
		}
		_, d, ok := strings.Cut(s.Host, ".")
		if !ok {
			continue
		}
		if domain == "" {
			domain, from = d, s
			continue
		}
		if d != domain {
			return "", &LineError{Path: c.Path, Line: s.Line, Key: fmt.Sprintf("server.%d", s.ID), Value: s.Raw,
				Msg: fmt.Sprintf("%s is not in the domain of server.%d (%s): zk-testenv's named hosts share one domain; rename the hosts into one", s.Host, from.ID, domain)}
		}
	}
	return domain, nil
}

// Ports returns the client ports of a server: its own, or the file's. With tlsOnClientPort (TLS
// asked for and no secureClientPort in the file) the client port serves TLS: client is then 0
// and secure the client port.
func (c *Config) Ports(s Server, tlsOnClientPort bool) (client, secure int) {
	client, secure = s.ClientPort, s.SecurePort
	if client == 0 {
		client = c.ClientPort
	}
	if secure == 0 {
		secure = c.SecureClientPort
	}
	if tlsOnClientPort && secure == 0 {
		return 0, client
	}
	return client, secure
}

// portUser is what listens on a port: for messages naming the line.
type portUser struct {
	what       string // "server.2's peer port"
	line       int
	key, value string
}

// checkPorts refuses ports that two listeners on one address would share: every port of a
// server must differ from its others, and members on loopback (one address) need their own.
func (p *parser) checkPorts() {
	c := p.c
	taken := map[string]portUser{} // "address/port" → first user
	for _, s := range c.Servers {
		addr := s.Host
		if s.Loopback() {
			addr = "loopback"
		}
		for _, pu := range c.portUsers(s) {
			k := fmt.Sprintf("%s/%d", addr, pu.port)
			first, dup := taken[k]
			if !dup {
				taken[k] = pu.portUser
				continue
			}
			fix := "give each its own port"
			if s.Loopback() {
				fix = "members on localhost share one address, so each needs its own ports: give every server its own client port (server.2=localhost:2889:3889;2182) and peer and leader ports, or use host names (zk-testenv makes them in a private network)"
			}
			at := pu.portUser
			if at.line == 0 { // a default: the server line is where to fix it
				at = portUser{line: s.Line, key: fmt.Sprintf("server.%d", s.ID), value: s.Raw}
			}
			p.errs = append(p.errs, &LineError{Path: p.path, Line: at.line, Key: at.key, Value: at.value,
				Msg: fmt.Sprintf("port %d is both %s (%s) and %s on %s: %s", pu.port, first.what, first.where(), pu.what, s.Host, fix)})
		}
	}
}

// where says where the port comes from.
func (u portUser) where() string {
	if u.line == 0 {
		return "the default, as " + u.key + " is not set"
	}
	return fmt.Sprintf("line %d", u.line)
}

type portOf struct {
	port int
	portUser
}

// portUsers lists the ports a server listens on (quorum ports only in an ensemble), each with
// the line that sets it.
func (c *Config) portUsers(s Server) []portOf {
	sk := fmt.Sprintf("server.%d", s.ID)
	own := portUser{line: s.Line, key: sk, value: s.Raw}
	fileKey := func(key string, v int) portUser {
		return portUser{line: c.lines[key], key: key, value: fmt.Sprint(v)}
	}
	client, secure := c.Ports(s, false)
	var out []portOf
	add := func(port int, what string, u portUser) {
		if port != 0 {
			u.what = sk + "'s " + what
			out = append(out, portOf{port, u})
		}
	}
	if s.ClientPort != 0 {
		add(client, "client port", own)
	} else {
		add(client, "client port", fileKey("clientPort", client))
	}
	if s.SecurePort != 0 {
		add(secure, "TLS client port", own)
	} else {
		add(secure, "TLS client port", fileKey("secureClientPort", secure))
	}
	if len(c.Servers) > 1 {
		add(s.PeerPort, "peer port", own)
		add(s.LeaderPort, "leader port", own)
	}
	return out
}

// absPath makes a dataDir absolute against the current directory.
func absPath(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
