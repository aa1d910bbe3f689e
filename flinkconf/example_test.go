package flinkconf_test

import (
	"context"
	"fmt"
	"log"

	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/election"
	"github.com/zksecure/zksecure/flinkconf"
)

// Map a Flink configuration (here flink-conf.yaml's flat format, from memory) onto a client
// configuration and the election's options.
func ExampleConf_ClientConfig() {
	conf := flinkconf.ParseFlat([]byte(`
high-availability.type: zookeeper
high-availability.zookeeper.quorum: zk1.example.com:2181,zk2.example.com:2181,zk3.example.com:2181
high-availability.cluster-id: /analytics
high-availability.storageDir: hdfs:///flink/ha/
high-availability.zookeeper.client.session-timeout: 30 s
high-availability.zookeeper.client.tolerate-suspended-connections: true
security.kerberos.login.keytab: /etc/security/keytabs/flink.keytab
security.kerberos.login.principal: flink/jm1.example.com@EXAMPLE.COM
security.kerberos.login.contexts: Client
`))
	r, err := conf.ClientConfig(flinkconf.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.HAType, r.Config.Members)
	fmt.Println(r.Config.ClusterID, r.Config.SessionTimeout)
	fmt.Println(r.Config.SASL, r.Config.Kerberos.Login.Principal)
	fmt.Println("tolerate suspended connections:", r.Election.TolerateSuspendedConnections)
	fmt.Println("warnings:", len(r.Warnings)) // each with its Key, Message and Fix
	// Output:
	// zookeeper [zk1.example.com:2181 zk2.example.com:2181 zk3.example.com:2181]
	// /analytics 30s
	// kerberos flink/jm1.example.com@EXAMPLE.COM
	// tolerate suspended connections: true
	// warnings: 0
}

// Likely mistakes are warnings: the key, what is wrong, and the fix.
func ExampleWarning() {
	conf := flinkconf.ParseFlat([]byte(`
high-availability.type: zookeeper
high-availability.storageDir: hdfs:///flink/ha/
high-availability.zookeeper.quorum: zk1:2181
high-availability.zookeeper.client.sesion-timeout: 30 s
`))
	r, err := conf.ClientConfig(flinkconf.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, w := range r.Warnings {
		fmt.Println(w.Key)
		fmt.Println(w.Fix)
	}
	// Output:
	// high-availability.zookeeper.client.sesion-timeout
	// did you mean high-availability.zookeeper.client.session-timeout? Rename the key
}

// Load a Flink configuration file, connect and run for leadership with the policy it sets. The
// example needs the file and running servers, so it is compiled but not run.
func ExampleLoad() {
	conf, err := flinkconf.Load("conf/flink-conf.yaml") // or conf/config.yaml (Flink 1.19+)
	if err != nil {
		log.Fatal(err)
	}
	r, err := conf.ClientConfig(flinkconf.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, w := range r.Warnings {
		log.Println(w)
	}
	ctx := context.Background()
	c, err := client.Connect(ctx, r.Config)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	e, err := election.New(c, r.Election)
	if err != nil {
		log.Fatal(err)
	}
	_ = e // e.Campaign(ctx, ...)
}
