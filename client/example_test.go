package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
)

// Connect with Kerberos and TLS, follow the connection state and read a node. The example needs
// running servers, so it is compiled but not run.
func ExampleConnect() {
	ctx := context.Background()
	c, err := client.Connect(ctx, client.Config{
		Members:   []string{"zk1:2281", "zk2:2281", "zk3:2281"}, // hostnames are kept: Kerberos and TLS need them
		ClusterID: "/analytics",                                 // namespace /flink/analytics
		TLS:       &zktls.Config{CAFile: "ca.pem", CertFile: "jm.pem", KeyFile: "jm.key", KeyPasswordFile: "jm.key.pw"},
		SASL:      client.SASLKerberos,
		Kerberos:  sasl.Config{Login: sasl.Login{Principal: "flink/jm1@EXAMPLE.COM", Keytab: "/etc/flink.keytab"}},
		ACL:       acl.Creator(), // every node: all permissions for this session's ids only
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	states, cancel := c.States() // Connected, Suspended, Reconnected, Lost, AuthFailed — none dropped
	defer cancel()
	go func() {
		for ev := range states {
			log.Println(ev)
		}
	}()

	data, stat, err := c.Get(ctx, "/leader/rest_server/connection_info") // paths are inside the namespace
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(data), stat.Version)
}

// Several clients of one process share ready credentials: one Kerberos login, one service ticket
// per member, one load of the TLS files. Each client authenticates with a Fork of the
// Authenticator, so an authentication failure closes only that client. The example needs running
// servers, so it is compiled but not run.
func ExampleConnect_sharedCredentials() {
	ctx := context.Background()
	a, err := sasl.New(sasl.Config{Login: sasl.Login{Principal: "flink/jm1@EXAMPLE.COM", Keytab: "/etc/flink.keytab"}})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close() // after the clients: deferred calls run last in, first out
	tc, err := zktls.Config{CAFile: "ca.pem", CertFile: "jm.pem", KeyFile: "jm.key", KeyPasswordFile: "jm.key.pw"}.Load()
	if err != nil {
		log.Fatal(err)
	}
	for _, cluster := range []string{"/analytics", "/billing"} {
		c, err := client.Connect(ctx, client.Config{
			Members:       []string{"zk1:2281", "zk2:2281", "zk3:2281"},
			ClusterID:     cluster,
			TLSClient:     tc, // TLS loaded once
			Authenticator: a,  // SASL is kerberos; logged in once
			ACL:           acl.Creator(),
		})
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
	}
}
