package testenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// M is what RunMain needs of *testing.M.
type M interface{ Run() int }

// Shared is a test package's shared environment, built once by RunMain's setup: every KDC and cluster
// started through it is closed after the tests, and its logs are printed when a test failed.
type Shared struct {
	// Dir is a temporary folder, removed after the tests.
	Dir string

	mu       sync.Mutex
	kdcs     []*KDC
	clusters map[string]*ZooKeeper
	networks []*Network
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

// NewPKI writes a PKI into Dir/name.
func (s *Shared) NewPKI(name string) (*PKI, error) { return NewPKI(filepath.Join(s.Dir, name)) }

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
}

// RunMain runs a package's tests around a shared environment, for TestMain:
//
//	var envErr error
//	func TestMain(m *testing.M) {
//		os.Exit(testenv.RunMain(m, &envErr, func(ctx context.Context, s *testenv.Shared) error { ... }))
//	}
//
// It checks the dependencies, makes the temporary folder and calls setup; a setup error (or a missing
// dependency) is stored in *setupErr before the tests run, so that every test that needs the
// environment fails with it rather than skipping. After the tests it prints the logs if any failed,
// and closes and removes everything. It returns the exit code for os.Exit.
func RunMain(m M, setupErr *error, setup func(ctx context.Context, s *Shared) error) int {
	dir, err := os.MkdirTemp("", "zksecure-tests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s := &Shared{Dir: dir, clusters: map[string]*ZooKeeper{}}
	if os.Getenv("ZKSECURE_TESTENV_KEEP") != "" { // for a post-mortem of the servers' files
		defer fmt.Fprintf(os.Stderr, "testenv: kept %s (ZKSECURE_TESTENV_KEEP is set)\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	defer s.close()
	if err := Check(); err != nil {
		*setupErr = err
	} else {
		*setupErr = setup(context.Background(), s)
	}
	code := m.Run()
	if code != 0 {
		s.DumpLogs(os.Stderr)
	}
	return code
}
