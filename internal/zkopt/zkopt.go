// Package zkopt builds option lists for go-zookeeper/zk's Connect, whose option type is unexported,
// and the bounds every zksecure session is built with (Bounded: the ConnectResponse within the connect
// timeout and within MaxBuffer, every later frame within MaxBuffer).
package zkopt

import "github.com/go-zookeeper/zk"

// List returns first followed by rest, all of first's (unexported) type, ready to spread into
// zk.Connect: zk.Connect(servers, timeout, zkopt.List(zk.WithDialer(d), more...)...).
func List[T ~func(*zk.Conn)](first T, rest ...func(*zk.Conn)) []T {
	out := make([]T, 0, 1+len(rest))
	out = append(out, first)
	for _, r := range rest {
		out = append(out, T(r))
	}
	return out
}
