package zoocfg

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// flinkZooCfg has the shape of Flink's conf/zoo.cfg: commented keys, the standalone server line
// and the commented template of a second one.
const flinkZooCfg = `# milliseconds per tick
tickTime=2000

# ticks the initial synchronization may take
initLimit=10

# ticks between a request and its acknowledgement
syncLimit=5

# where snapshots go
# dataDir=/tmp/zookeeper

# the port clients connect to
clientPort=2181

# the quorum peers
server.1=localhost:2888:3888
# server.2=host:peer-port:leader-port
`

func TestFlinkShippedZooCfg(t *testing.T) {
	c, err := Parse("conf/zoo.cfg", []byte(flinkZooCfg))
	if err != nil {
		t.Fatal(err)
	}
	want := []Server{{ID: 1, Host: "localhost", PeerPort: 2888, LeaderPort: 3888, Line: 17, Raw: "localhost:2888:3888"}}
	if !reflect.DeepEqual(c.Servers, want) {
		t.Errorf("servers %+v, want %+v", c.Servers, want)
	}
	if c.ClientPort != 2181 || c.SecureClientPort != 0 || c.TickTime != 2*time.Second || c.DataDir != "" {
		t.Errorf("clientPort %d secure %d tick %v dataDir %q", c.ClientPort, c.SecureClientPort, c.TickTime, c.DataDir)
	}
	wantPass := []Entry{{"initLimit", "10", 5}, {"syncLimit", "5", 8}}
	if !reflect.DeepEqual(c.Pass, wantPass) {
		t.Errorf("pass %+v, want %+v", c.Pass, wantPass)
	}
	if len(c.Notes) != 0 {
		t.Errorf("notes %q", c.Notes)
	}
	if got := c.Quorum(false, false); !reflect.DeepEqual(got, []string{"localhost:2181"}) {
		t.Errorf("quorum %v", got)
	}
}

func TestNamedEnsemble(t *testing.T) {
	src := strings.Replace(flinkZooCfg, "server.1=localhost:2888:3888\n",
		"server.1=zk1.flink.test:2888:3888\nserver.2 = zk2.flink.test:2888:3888:participant\nserver.3: ZK3.flink.test\n", 1) +
		"secureClientPort=2281\nautopurge.snapRetainCount=3\nautopurge.purgeInterval=1\nmaxClientCnxns=60\n" +
		"4lw.commands.whitelist=ruok,stat\nkerberos.removeHostFromPrincipal=true\nenforce.auth.enabled=true\nenforce.auth.schemes=sasl\n" +
		"ssl.clientAuth=want\nauthProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"
	c, err := Parse("zoo.cfg", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, s := range c.Servers {
		hosts = append(hosts, fmt.Sprintf("%d=%s:%d:%d", s.ID, s.Host, s.PeerPort, s.LeaderPort))
	}
	if want := []string{"1=zk1.flink.test:2888:3888", "2=zk2.flink.test:2888:3888", "3=zk3.flink.test:2888:3888"}; !reflect.DeepEqual(hosts, want) {
		t.Errorf("servers %v, want %v", hosts, want)
	}
	if d, err := c.Domain(); d != "flink.test" || err != nil {
		t.Errorf("domain %q, %v", d, err)
	}
	if got, want := c.Quorum(true, false), []string{"zk1.flink.test:2281", "zk2.flink.test:2281", "zk3.flink.test:2281"}; !reflect.DeepEqual(got, want) {
		t.Errorf("TLS quorum %v, want %v", got, want)
	}
	if got := c.Security; got != (Security{RemoveHostFromPrincipal: true, EnforceSASL: true, ClientAuth: "want"}) {
		t.Errorf("security %+v", got)
	}
	var wl string
	for _, e := range c.Pass {
		if e.Key == "4lw.commands.whitelist" {
			wl = e.Value
		}
	}
	if wl != "ruok,stat,srvr" {
		t.Errorf("whitelist %q, want srvr added", wl)
	}
	notes := strings.Join(c.Notes, "\n")
	for _, want := range []string{"server.3 has no leader port (line 19): it gets 2888:3888", "host ZK3.flink.test is used as zk3.flink.test",
		"gets srvr added", "authProvider.1 (line 30): zk-testenv configures SASL itself"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

func TestLoopbackEnsembleWithOwnClientPorts(t *testing.T) {
	c, err := Parse("zoo.cfg", []byte("server.1=localhost:2888:3888;2181\nserver.2=127.0.0.1:2889:3889;0.0.0.0:2182\nserver.3=localhost:2890:3890;2183\ndataDir=data\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Quorum(false, false), []string{"localhost:2181", "127.0.0.1:2182", "localhost:2183"}; !reflect.DeepEqual(got, want) {
		t.Errorf("quorum %v, want %v", got, want)
	}
	// TLS without secureClientPort: the client ports serve TLS.
	if got, want := c.Quorum(true, true), []string{"localhost:2181", "127.0.0.1:2182", "localhost:2183"}; !reflect.DeepEqual(got, want) {
		t.Errorf("TLS-on-client-port quorum %v, want %v", got, want)
	}
	if cl, sec := c.Ports(c.Servers[1], true); cl != 0 || sec != 2182 {
		t.Errorf("ports with TLS on the client port: %d %d", cl, sec)
	}
	if wd, _ := os.Getwd(); c.DataDir != filepath.Join(wd, "data") {
		t.Errorf("dataDir %q not made absolute", c.DataDir)
	}
	if !strings.Contains(strings.Join(c.Notes, "\n"), `client address "0.0.0.0" (line 2) is replaced`) {
		t.Errorf("notes %q", c.Notes)
	}
}

func TestPropertiesSyntax(t *testing.T) {
	src := "! a comment\n  # another\nserver.1 localhost:2888:\\\n   3888\nclientPort : 2181\ninitLimit=1\\\n0\nsyncLimit=\\u0035\n"
	c, err := Parse("zoo.cfg", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Servers[0]; s.LeaderPort != 3888 || s.Line != 3 {
		t.Errorf("continued server line: %+v", s)
	}
	if !reflect.DeepEqual(c.Pass, []Entry{{"initLimit", "10", 6}, {"syncLimit", "5", 8}}) {
		t.Errorf("pass %+v", c.Pass)
	}
}

// Every bad input gets an error naming its line and saying what to do.
func TestErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"server.a=zk1:2888:3888\n", `zoo.cfg line 1 (server.a=zk1:2888:3888): the server id "a" is not a number`},
		{"server.1=zk1.t:28x8:3888\n", "line 1 (server.1=zk1.t:28x8:3888): peer port \"28x8\": not a port"},
		{"server.1=zk1.t:2888:99999\n", "leader port \"99999\": not a port"},
		{"server.1=zk1.t:2888:3888:1:2\n", "has 4 ports"},
		{"server.1=zk1.t:2888:3888\nserver.01=zk2.t:2888:3888\n", "line 2 (server.01=zk2.t:2888:3888): server id 1 is defined twice (first on line 1)"},
		{"server.1=zk1.t:2888:3888\nserver.1=zk2.t:2888:3888\n", "line 2 (server.1=zk2.t:2888:3888): server id 1 is defined twice (first on line 1)"},
		{"server.0=zk1.t:2888:3888\n", "server id 0: zk-testenv takes ids from 1 to 255"},
		{"server.1=zk1.t:2888:3888\nclientPort=2181\nclientPort=2182\n", "line 3 (clientPort=2182): clientPort is set again (first on line 2)"},
		{"server.1=zk1.t:2888:3888:observer\n", "observers cannot be honoured"},
		{"server.1=zk1.t:2888:3888|zk1b.t:2888:3888\n", "several addresses per server"},
		{"server.1=10.0.0.5:2888:3888\n", "the address 10.0.0.5 cannot be honoured"},
		{"server.1=zk_1.t:2888:3888\n", `"zk_1.t" is not a host name`},
		{"server.1=\n", "no address"},
		{"server.1=localhost:2888:3888\nserver.2=zk2.t:2888:3888\n", "line 2 (server.2=zk2.t:2888:3888): mixes loopback (server.1=localhost) and named hosts"},
		{"server.1=zk1.a.test:2888:3888\nserver.2=zk2.b.test:2888:3888\n", "line 2 (server.2=zk2.b.test:2888:3888): zk2.b.test is not in the domain of server.1 (a.test)"},
		{"clientPort=2181\nserver.1=localhost:2888:3888\nserver.2=localhost:2889:3889\n", "line 1 (clientPort=2181): port 2181 is both server.1's client port (line 1) and server.2's client port on localhost: members on localhost share one address"},
		{"server.1=localhost:2888:3888\nserver.2=localhost:2889:3889\n", "line 2 (server.2=localhost:2889:3889): port 2181 is both server.1's client port (the default, as clientPort is not set) and server.2's client port"},
		{"server.1=localhost:2888:3888;2181\nserver.2=localhost:2888:3889;2182\n", "line 2 (server.2=localhost:2888:3889;2182): port 2888 is both server.1's peer port (line 1) and server.2's peer port"},
		{"clientPort=2888\nserver.1=zk1.t:2888:3888\nserver.2=zk2.t:2888:3888\n", "line 2 (server.1=zk1.t:2888:3888): port 2888 is both server.1's client port (line 1) and server.1's peer port on zk1.t: give each its own port"},
		{"server.1=zk1.t\nclientport=2181\n", "line 2 (clientport=2181): unknown key clientport: did you mean clientPort?"},
		{"server.1=zk1.t\nfrobnicate=yes\n", "unknown key frobnicate: zk-testenv does not know how to honour it"},
		{"server.1=zk1.t\nssl.keyStore.location=/etc/zk/ks.jks\n", "line 2 (ssl.keyStore.location=/etc/zk/ks.jks): cannot be honoured: zk-testenv issues its own TLS material"},
		{"server.1=zk1.t\nquorum.auth.enableSasl=true\n", "quorum authentication and quorum TLS"},
		{"server.1=zk1.t\nskipACL=yes\n", "skipACL turns every ACL check off"},
		{"server.1=zk1.t\nadmin.serverPort=8081\n", "the AdminServer is off"},
		{"server.1=zk1.t\ndynamicConfigFile=zoo.cfg.dynamic\n", "put the server.X lines into zoo.cfg itself"},
		{"server.1=zk1.t\nmetricsProvider.className=x\n", "no metrics provider"},
		{"server.1=zk1.t\nauthProvider.1=com.example.Custom\n", "configures the SASL and x509 providers only"},
		{"server.1=zk1.t\nenforce.auth.enabled=true\n", "enforce.auth.enabled needs enforce.auth.schemes=sasl"},
		{"server.1=zk1.t\nenforce.auth.schemes=digest\n", "zk-testenv enforces SASL only"},
		{"server.1=zk1.t\ntickTime=fast\n", "line 2 (tickTime=fast): not a number of milliseconds"},
		{"server.1=zk1.t\ninitLimit=-1\n", "not a whole number"},
		{"server.1=zk1.t\nforceSync=maybe\n", "not true or false"},
		{"server.1=zk1.t\nclientPortAddress=10.1.1.1\n", "binds every member to its own address"},
		{"server.1=zk1.t\nreconfigEnabled=true\n", "dynamic reconfiguration cannot be honoured"},
		{"server.1=zk1.t\nautopurge.interval=1\n", "unknown autopurge key"},
		{"# nothing\ntickTime=2000\n", "no server.X line: add one per ZooKeeper member"},
		{"server.1=zk1.t\nx=\\u00zz\n", "line 2: malformed \\uXXXX escape"},
	} {
		_, err := Parse("zoo.cfg", []byte(tc.src))
		if err == nil {
			t.Errorf("%q: no error, want %q", tc.src, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant …%s…", tc.src, err, tc.want)
		}
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%q: %v does not match ErrConfig", tc.src, err)
		}
	}
}

func TestEveryProblemIsReported(t *testing.T) {
	_, err := Parse("zoo.cfg", []byte("server.1=zk1.t:1:x\nserver.2=zk2.t\nbogus=1\ntickTime=0\n"))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"line 1", "line 3", "line 4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %s", err, want)
		}
	}
}

func TestTooLarge(t *testing.T) {
	if _, err := Parse("big.cfg", make([]byte, MaxSize+1)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("got %v", err)
	}
	var b strings.Builder
	for i := 1; i <= MaxServers+1; i++ {
		fmt.Fprintf(&b, "server.%d=zk%d.t\n", i, i)
	}
	if _, err := Parse("zoo.cfg", []byte(b.String())); err == nil || !strings.Contains(err.Error(), "line 16: 16 servers: zk-testenv starts at most 15") {
		t.Errorf("got %v", err)
	}
}

type fakeProbe struct {
	taken    map[int]bool
	readOnly map[string]bool
}

func (f fakeProbe) PortFree(port int) error {
	if f.taken[port] {
		return errors.New("address already in use")
	}
	return nil
}

func (f fakeProbe) Writable(dir string) error {
	if f.readOnly[dir] {
		return errors.New("permission denied")
	}
	return nil
}

func TestCheck(t *testing.T) {
	c, err := Parse("zoo.cfg", []byte("clientPort=2181\nserver.1=localhost:2888:3888\nserver.2=localhost:2889:3889;2182\ndataDir=/srv/zk\ndataLogDir=/srv/zklog\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Check(fakeProbe{taken: map[int]bool{2181: true, 3889: true}, readOnly: map[string]bool{"/srv/zk": true}})
	for _, want := range []string{
		"line 1 (clientPort=2181): server.1's client port 2181 is taken on 127.0.0.1 (address already in use): stop what holds it, or pick a free port",
		"line 3 (server.2=localhost:2889:3889;2182): server.2's leader port 3889 is taken",
		"line 4 (dataDir=/srv/zk): cannot write there (permission denied): point dataDir at a folder you can write",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v\nwant …%s…", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "dataLogDir") {
		t.Errorf("writable dataLogDir reported: %v", err)
	}
	// Named hosts live in a network of their own: their ports are not probed.
	named, err := Parse("zoo.cfg", []byte("server.1=zk1.t:2888:3888\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := named.Check(fakeProbe{taken: map[int]bool{2181: true, 2888: true}}); err != nil {
		t.Errorf("named host probed: %v", err)
	}
}

func TestSystemProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := System.PortFree(l.Addr().(*net.TCPAddr).Port); err == nil {
		t.Error("a listening port reported free")
	}
	dir := t.TempDir()
	if err := System.Writable(filepath.Join(dir, "a", "b")); err != nil {
		t.Errorf("a new folder: %v", err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := System.Writable(filepath.Join(file, "data")); err == nil {
		t.Error("a folder under a file reported writable")
	}
}

func TestFromQuorum(t *testing.T) {
	c, err := FromQuorum("conf/flink-conf.yaml", "high-availability.zookeeper.quorum", "zk1.flink.test:2181, zk2.flink.test:2181,zk3.flink.test", false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Quorum(false, false), []string{"zk1.flink.test:2181", "zk2.flink.test:2181", "zk3.flink.test:2181"}; !reflect.DeepEqual(got, want) {
		t.Errorf("quorum %v", got)
	}
	if s := c.Servers[2]; s.ID != 3 || s.PeerPort != 2888 || s.LeaderPort != 3888 {
		t.Errorf("server 3 %+v", s)
	}
	loop, err := FromQuorum("f", "q", "localhost:2281,localhost:2282", true)
	if err != nil {
		t.Fatal(err)
	}
	if s := loop.Servers[1]; s.SecurePort != 2282 || s.ClientPort != 0 || s.PeerPort != 0 {
		t.Errorf("loopback TLS server %+v", s)
	}
	if got := loop.Quorum(true, true); !reflect.DeepEqual(got, []string{"localhost:2281", "localhost:2282"}) {
		t.Errorf("quorum %v", got)
	}
	for _, tc := range []struct{ q, want string }{
		{"", "conf/flink-conf.yaml (high-availability.zookeeper.quorum=): no member"},
		{"zk1.t:2181,zk2.t:2181/flink", "(high-availability.zookeeper.quorum=zk2.t:2181/flink): a chroot in the quorum"},
		{"localhost:2181,127.0.0.1:2181", "(high-availability.zookeeper.quorum=127.0.0.1:2181): named twice"},
		{"zk1.t:21x", "port \"21x\": not a port"},
		{"10.0.0.1:2181", "the address 10.0.0.1 cannot be honoured"},
		{"localhost:2181,zk2.t:2181", "(high-availability.zookeeper.quorum=zk2.t:2181): mixes loopback"},
	} {
		_, err := FromQuorum("conf/flink-conf.yaml", "high-availability.zookeeper.quorum", tc.q, false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want …%s…", tc.q, err, tc.want)
		}
	}
}

// A password in a zoo.cfg is never shown in an error: not on a refused ssl.* line, not in a
// malformed \u escape, not under a misspelled key.
func TestErrorsShowNoPassword(t *testing.T) {
	const secret = "Zoo-5ecret-pw"
	src := "server.1=localhost:2888:3888\nssl.keyStore.password=" + secret + "\nssl.quorum.trustStore.password=" + secret +
		"\nkeyStorePasword=" + secret + "\nssl.keyStore.location=x\\u12zz" + secret + "\n"
	_, err := Parse("zoo.cfg", []byte(src))
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "12zz") {
		t.Errorf("a secret in the error:\n%v", err)
	}
}
