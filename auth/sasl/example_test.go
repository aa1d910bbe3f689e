package sasl_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/zksecure/zksecure/auth/sasl"
)

// The service principal the client asks for, as the Java client derives it. NoCanonicalize keeps
// the example off DNS; by default the host is replaced by the reverse-DNS name of its address.
func ExamplePrincipalRules_ServicePrincipal() {
	ctx := context.Background()
	var rules sasl.PrincipalRules // the Java client's default: zookeeper/<host>@<client realm>
	rules.NoCanonicalize = true

	p, err := rules.ServicePrincipal(ctx, nil, "ZK1.example.com:2281", "EXAMPLE.COM")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p)

	// zookeeper.server.principal (ZooKeeper 3.5.7+): one principal for every member.
	rules = sasl.PrincipalRules{ServerPrincipal: "zookeeper/zk.example.com"}
	p, err = rules.ServicePrincipal(ctx, nil, "zk2.example.com:2281", "EXAMPLE.COM")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p)
	// Output:
	// zookeeper/zk1.example.com@EXAMPLE.COM
	// zookeeper/zk.example.com@EXAMPLE.COM
}

// The Krb5LoginModule options of a JAAS file's Client section, the section a Java ZooKeeper
// client reads (Login.JAASFile reads a file the same way).
func ExampleParseJAAS() {
	jaas, err := sasl.ParseJAAS(`
Client {
  com.sun.security.auth.module.Krb5LoginModule required
  useKeyTab=true
  keyTab="/etc/security/keytabs/flink.keytab"
  principal="flink/jm1.example.com@EXAMPLE.COM";
};`)
	if err != nil {
		log.Fatal(err)
	}
	opts, err := jaas.Krb5Options(sasl.DefaultLoginContext)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(opts["principal"], opts["keyTab"])
	// Output: flink/jm1.example.com@EXAMPLE.COM /etc/security/keytabs/flink.keytab
}

// A plain go-zookeeper session whose every connection authenticates with Kerberos from a keytab.
// New loads the credentials; Connect logs in at the KDC. The example needs a keytab, a KDC and
// servers, so it is compiled but not run.
func ExampleConnect() {
	a, err := sasl.New(sasl.Config{Login: sasl.Login{Principal: "flink/jm1@EXAMPLE.COM", Keytab: "/etc/flink.keytab"}})
	if err != nil {
		log.Fatal(err)
	}
	conn, _, err := sasl.Connect(context.Background(), a, []string{"zk1:2181", "zk2:2181"}, 30*time.Second, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
}
