package election_test

import (
	"context"
	"fmt"
	"log"

	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/election"
)

// Campaign for leadership, publish the REST address as a Flink JobManager does, and wait until the
// leadership ends. The example needs running servers, so it is compiled but not run.
func ExampleElection_Campaign() {
	ctx := context.Background()
	c, err := client.Connect(ctx, client.Config{Members: []string{"zk1:2181", "zk2:2181", "zk3:2181"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	e, err := election.New(c, election.Options{}) // <namespace>/leader/latch, as Curator's LeaderLatch and Flink
	if err != nil {
		log.Fatal(err)
	}
	l, err := e.Campaign(ctx, []byte("jm-1")) // blocks until this contender leads
	if err != nil {
		log.Fatal(err)
	}
	if err := l.Publish(ctx, "rest_server", "http://jm1:8081"); err != nil { // Flink's connection_info record
		log.Fatal(err)
	}
	<-l.Done() // leadership lost
	log.Println("no longer the leader:", l.Err())
}

// Find the leader of a Flink cluster (any Flink version that uses ZooKeeper HA). The example needs
// running servers, so it is compiled but not run.
func ExampleReadLeader() {
	ctx := context.Background()
	c, err := client.Connect(ctx, client.Config{Members: []string{"zk1:2181"}, ClusterID: "/analytics"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	info, err := election.ReadLeader(ctx, c, "rest_server")
	if err != nil {
		log.Fatal(err) // election.ErrNoLeader while there is none
	}
	fmt.Println(info.Address, info.SessionID)
}
