package client

import (
	"sync"

	"github.com/go-zookeeper/zk"
)

// job is one go-zookeeper call: the function that makes it (one of the ...Call functions below, so
// that no closure is allocated per call), its arguments, its results, and the channel its worker
// signals on when the results are set.
//
// Jobs are pooled with their channel. A job is given back to the pool only by the goroutine that
// received its signal: a job whose caller gave up (its context ended) is never reused, so a worker
// that finishes it late signals into that job's own channel, which nothing reads any more, and
// never into a job that another call is using.
type job struct {
	conn *zk.Conn
	call func(*job)
	in   args
	out  results
	err  error
	done chan struct{} // buffered (1): the worker's signal that out and err are set
}

// args are a call's arguments (each call uses the ones it needs).
type args struct {
	path    string
	data    []byte
	version int32
	flags   int32
	acl     []zk.ACL
	ops     []any
}

// results are a call's results (each call sets the ones it has).
type results struct {
	data  []byte
	stat  *zk.Stat
	str   string
	strs  []string
	ok    bool
	acl   []zk.ACL
	watch <-chan zk.Event
	multi []zk.MultiResponse
}

var jobs = sync.Pool{New: func() any { return &job{done: make(chan struct{}, 1)} }}

func newJob(conn *zk.Conn, call func(*job), in args) *job {
	j := jobs.Get().(*job)
	j.conn, j.call, j.in = conn, call, in
	return j
}

// release gives j back to the pool, without what it refers to. Only the owner of j (see job) may.
func (j *job) release() {
	j.conn, j.call, j.in, j.out, j.err = nil, nil, args{}, results{}, nil
	jobs.Put(j)
}

// runAndSignal makes the call and signals its end; j must not be touched after the signal.
func (j *job) runAndSignal() {
	j.call(j)
	j.done <- struct{}{}
}

// The calls: each is go-zookeeper's function of the same name.
func getCall(j *job)      { j.out.data, j.out.stat, j.err = j.conn.Get(j.in.path) }
func setCall(j *job)      { j.out.stat, j.err = j.conn.Set(j.in.path, j.in.data, j.in.version) }
func createCall(j *job)   { j.out.str, j.err = j.conn.Create(j.in.path, j.in.data, j.in.flags, j.in.acl) }
func deleteCall(j *job)   { j.err = j.conn.Delete(j.in.path, j.in.version) }
func existsCall(j *job)   { j.out.ok, j.out.stat, j.err = j.conn.Exists(j.in.path) }
func childrenCall(j *job) { j.out.strs, j.out.stat, j.err = j.conn.Children(j.in.path) }
func getACLCall(j *job)   { j.out.acl, j.out.stat, j.err = j.conn.GetACL(j.in.path) }
func setACLCall(j *job)   { j.out.stat, j.err = j.conn.SetACL(j.in.path, j.in.acl, j.in.version) }
func syncCall(j *job)     { j.out.str, j.err = j.conn.Sync(j.in.path) }
func multiCall(j *job)    { j.out.multi, j.err = j.conn.Multi(j.in.ops...) }
func getWCall(j *job)     { j.out.data, j.out.stat, j.out.watch, j.err = j.conn.GetW(j.in.path) }
func existsWCall(j *job)  { j.out.ok, j.out.stat, j.out.watch, j.err = j.conn.ExistsW(j.in.path) }
func childrenWCall(j *job) {
	j.out.strs, j.out.stat, j.out.watch, j.err = j.conn.ChildrenW(j.in.path)
}
