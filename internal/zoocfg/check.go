package zoocfg

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
)

// Probe is what Check needs from the machine. System is the real one; tests pass fakes.
type Probe interface {
	// PortFree returns an error when nothing can listen on 127.0.0.1:port.
	PortFree(port int) error
	// Writable returns an error when dir cannot be created, or a file cannot be written in it.
	Writable(dir string) error
}

// System probes this machine: it listens on the port for a moment, and creates dir (with its
// parents) and a temporary file in it.
var System Probe = systemProbe{}

type systemProbe struct{}

func (systemProbe) PortFree(port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return l.Close()
}

func (systemProbe) Writable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".zk-testenv-probe-")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// Check finds what the machine would refuse: a port of a loopback member that another process
// holds, and a dataDir or dataLogDir that cannot be written. (Named hosts live in a private
// network of their own, where every port is free.) Every problem is returned, joined.
func (c *Config) Check(p Probe) error {
	var errs []error
	for _, s := range c.Servers {
		if !s.Loopback() {
			continue
		}
		for _, pu := range c.portUsers(s) {
			if err := p.PortFree(pu.port); err != nil {
				at := pu.portUser
				if at.line == 0 { // a default: the server line is where to change it
					at = portUser{line: s.Line, key: fmt.Sprintf("server.%d", s.ID), value: s.Raw}
				}
				errs = append(errs, &LineError{Path: c.Path, Line: at.line, Key: at.key, Value: at.value,
					Msg: fmt.Sprintf("%s %d is taken on 127.0.0.1 (%v): stop what holds it, or pick a free port", pu.what, pu.port, err)})
			}
		}
	}
	for _, d := range []struct{ key, dir string }{{"dataDir", c.DataDir}, {"dataLogDir", c.DataLogDir}} {
		if d.dir == "" {
			continue
		}
		if err := p.Writable(d.dir); err != nil {
			errs = append(errs, &LineError{Path: c.Path, Line: c.lines[d.key], Key: d.key, Value: d.dir,
				Msg: fmt.Sprintf("cannot write there (%v): point %s at a folder you can write, or remove the line (zk-testenv then keeps the data in its own folder)", err, d.key)})
		}
	}
	return errors.Join(errs...)
}
