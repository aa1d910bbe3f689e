package election

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/client"
)

// infoPath is where Flink keeps a component's leader record.
func infoPath(component string) string { return "/leader/" + component + "/connection_info" }

func validComponent(c string) error {
	if c == "" || strings.ContainsAny(c, "/\x00") || c == "." || c == ".." || c == "latch" {
		return fmt.Errorf("%w: %q must be one path segment (rest_server, dispatcher, resource_manager, a job id) and not \"latch\"", ErrInvalidComponent, c)
	}
	return nil
}

// ReadLeader returns the leader record Flink (or a Leadership) published for component, or
// ErrNoLeader. An invalid component is an error wrapping ErrInvalidComponent.
func ReadLeader(ctx context.Context, c *client.Client, component string) (LeaderInfo, error) {
	if err := validComponent(component); err != nil {
		return LeaderInfo{}, err
	}
	data, _, err := c.Get(ctx, infoPath(component))
	if errors.Is(err, zk.ErrNoNode) {
		return LeaderInfo{}, ErrNoLeader
	}
	if err != nil {
		return LeaderInfo{}, err
	}
	return DecodeLeaderRecord(data)
}

// ObserveLeader reports component's leader record: the current one first (zero LeaderInfo when there
// is none), then every change. The channel closes when ctx ends or the client closes. An invalid
// component is reported as ReadLeader reports it: an error wrapping ErrInvalidComponent, returned
// at once (with a nil channel, and nothing started).
func ObserveLeader(ctx context.Context, c *client.Client, component string) (<-chan LeaderInfo, error) {
	if err := validComponent(component); err != nil {
		return nil, err
	}
	p := infoPath(component)
	return watchLoop(ctx, c, func(ctx context.Context) (LeaderInfo, string, <-chan zk.Event, error) {
		data, _, watch, err := readOrAwait(ctx, c, p, c.GetW)
		if err != nil {
			return LeaderInfo{}, "", watch, err
		}
		info, derr := DecodeLeaderRecord(data)
		if derr != nil {
			info = LeaderInfo{} // no record, or not a Flink one: no leader to report
		}
		return info, string(data), watch, nil
	}), nil
}
