package testenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/zksecure/zksecure/auth/sasl"
)

// M is what RunMain needs of *testing.M.
type M interface{ Run() int }

// Shared is a test package's shared environment, built once by its setup function: every KDC and
// cluster started through it is closed after the tests, and its logs are printed when a test
// failed. Make one with NewShared (set up lazily, by the first test that calls Require) or use
// RunMain (set up before the tests).
type Shared struct {
	// Dir is a temporary folder, made just before setup runs and removed after the tests.
	Dir string

	setup   func(ctx context.Context, s *Shared) error
	once    sync.Once
	err     error // the dependency check's or the setup's error
	started bool  // setup began: there is something to clean up

	mu       sync.Mutex
	kdcs     []*KDC
	clusters map[string]*ZooKeeper
	networks []*Network
	closers  []io.Closer
}

// NewShared returns a package's shared environment, which setup builds on first use: the first
// Require checks the dependencies, makes Dir and calls setup; a package's unit tests, which never
// call Require, run without any server. Run it from TestMain with Run:
//
//	var shared = testenv.NewShared(func(ctx context.Context, s *testenv.Shared) error { ... })
//
//	func TestMain(m *testing.M) { os.Exit(shared.Run(m)) }
//
//	func TestSomething(t *testing.T) {
//		shared.Require(t) // the first call sets up; every call fails t if that failed
//		...
//	}
func NewShared(setup func(ctx context.Context, s *Shared) error) *Shared {
	return &Shared{setup: setup, clusters: map[string]*ZooKeeper{}}
}

// start sets the environment up once; every call returns that one attempt's error.
func (s *Shared) start() error {
	s.once.Do(func() {
		if err := Check(); err != nil {
			s.err = err
			return
		}
		dir, err := os.MkdirTemp("", "zksecure-tests-")
		if err != nil {
			s.err = err
			return
		}
		s.mu.Lock()
		s.Dir, s.started = dir, true
		s.mu.Unlock()
		s.err = s.setup(context.Background(), s)
	})
	return s.err
}

// Require sets the environment up if no test has yet (concurrent callers wait for that one setup),
// and fails t — in every test that calls it, never skipping — when a dependency is missing or the
// setup failed.
func (s *Shared) Require(t TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatalf("test environment: %v", err)
	}
}

// Run runs the tests (m.Run), then, if a test set the environment up, prints its logs when a test
// failed and closes and removes everything (Dir is kept when ZKSECURE_TESTENV_KEEP is set). It
// returns the exit code for os.Exit.
func (s *Shared) Run(m M) int {
	code := m.Run()
	s.finish(code)
	return code
}

func (s *Shared) finish(code int) {
	// The tests' clients are closed: end the process-wide Kerberos credentials they shared now,
	// not after sasl.SharedLinger, so that the goroutine check that follows finds none.
	sasl.CloseIdle()
	s.mu.Lock()
	started, dir := s.started, s.Dir
	s.mu.Unlock()
	if !started {
		return
	}
	if code != 0 {
		s.DumpLogs(os.Stderr)
	}
	s.close()
	if os.Getenv("ZKSECURE_TESTENV_KEEP") != "" { // for a post-mortem of the servers' files
		fmt.Fprintf(os.Stderr, "testenv: kept %s (ZKSECURE_TESTENV_KEEP is set)\n", dir)
	} else {
		os.RemoveAll(dir)
	}
}

// NewNetwork makes the network of an isolated run (see NewNetwork and Isolate) in Dir/net-<domain>
// and registers it: it is closed after every cluster.
func (s *Shared) NewNetwork(domain string) (*Network, error) {
	n, err := NewNetwork(filepath.Join(s.Dir, "net-"+domain), domain)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.networks = append(s.networks, n)
	s.mu.Unlock()
	return n, nil
}

// StartKDC starts a KDC in Dir/kdc-<n> (unless opts.Dir is set) and registers it.
func (s *Shared) StartKDC(ctx context.Context, opts KDCOptions) (*KDC, error) {
	s.mu.Lock()
	n := len(s.kdcs)
	s.mu.Unlock()
	if opts.Dir == "" {
		opts.Dir = filepath.Join(s.Dir, fmt.Sprintf("kdc-%d", n))
	}
	k, err := StartKDC(ctx, opts)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.kdcs = append(s.kdcs, k)
	s.mu.Unlock()
	return k, nil
}

// StartAD starts a Samba AD domain controller in Dir/ad-<n> (unless opts.Dir is set) and registers
// its KDC: it is closed after the tests, and its log printed when a test failed.
func (s *Shared) StartAD(ctx context.Context, opts ADOptions) (*AD, error) {
	s.mu.Lock()
	n := len(s.kdcs)
	s.mu.Unlock()
	if opts.Dir == "" {
		opts.Dir = filepath.Join(s.Dir, fmt.Sprintf("ad-%d", n))
	}
	ad, err := StartAD(ctx, opts)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.kdcs = append(s.kdcs, ad.KDC)
	s.mu.Unlock()
	return ad, nil
}

// NewPKI writes a PKI into Dir/name.
func (s *Shared) NewPKI(name string) (*PKI, error) { return NewPKI(filepath.Join(s.Dir, name)) }

// StartRevocationServer starts p's CRL distribution point and OCSP responder (see
// PKI.StartRevocationServer) and registers it: it is closed after the tests.
func (s *Shared) StartRevocationServer(p *PKI) (*RevocationServer, error) {
	rs, err := p.StartRevocationServer()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.closers = append(s.closers, rs)
	s.mu.Unlock()
	return rs, nil
}

// StartZooKeepers starts named clusters in parallel (see StartZooKeepers) under Dir and registers them.
func (s *Shared) StartZooKeepers(ctx context.Context, opts map[string]ZooKeeperOptions) (map[string]*ZooKeeper, error) {
	zks, err := StartZooKeepers(ctx, s.Dir, opts)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	for name, z := range zks {
		s.clusters[name] = z
	}
	s.mu.Unlock()
	return zks, nil
}

// DumpLogs writes the last lines of every registered cluster's and KDC's logs to w.
func (s *Shared) DumpLogs(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.clusters))
	for name := range s.clusters {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "=== ZooKeeper %s\n", name)
		s.clusters[name].DumpLogs(w, 25)
	}
	for _, k := range s.kdcs {
		fmt.Fprintf(w, "=== KDC %s: %s\n%s\n", k.Addr, k.LogPath(), tailFile(k.LogPath(), 15))
	}
}

func (s *Shared) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, z := range s.clusters {
		z.Close()
	}
	for _, k := range s.kdcs {
		k.Close()
	}
	for _, n := range s.networks {
		n.Close()
	}
	for _, c := range s.closers {
		c.Close()
	}
}

// RunMain runs a package's tests around a shared environment set up before the tests, for TestMain:
//
//	var envErr error
//	func TestMain(m *testing.M) {
//		os.Exit(testenv.RunMain(m, &envErr, func(ctx context.Context, s *testenv.Shared) error { ... }))
//	}
//
// It checks the dependencies, makes the temporary folder and calls setup; a setup error (or a missing
// dependency) is stored in *setupErr before the tests run, so that every test that needs the
// environment fails with it rather than skipping. After the tests it prints the logs if any failed,
// and closes and removes everything. It returns the exit code for os.Exit. NewShared is the same,
// set up by the first test that needs it.
func RunMain(m M, setupErr *error, setup func(ctx context.Context, s *Shared) error) int {
	s := NewShared(setup)
	*setupErr = s.start()
	return s.Run(m)
}
