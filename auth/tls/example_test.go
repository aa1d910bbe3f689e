package zktls_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	zktls "github.com/zksecure/zksecure/auth/tls"
)

// Import the TLS settings of a Java client's properties file (as zkCli.sh -client-configuration FILE
// reads it; a JVM's -Dzookeeper.* system properties map the same way with FromProperties).
func ExampleLoadProperties() {
	dir, err := os.MkdirTemp("", "zktls-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "zk-client.properties")
	err = os.WriteFile(path, []byte(`zookeeper.client.secure=true
zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty
zookeeper.ssl.keyStore.location=/etc/zk/jm.p12
zookeeper.ssl.keyStore.password=changeit
zookeeper.ssl.trustStore.location=/etc/zk/ca.pem
zookeeper.ssl.hostnameVerification=false
zookeeper.ssl.enabledProtocols=TLSv1.1,TLSv1.2
`), 0o600)
	if err != nil {
		log.Fatal(err)
	}

	p, err := zktls.LoadProperties(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("secure:", p.Secure)
	fmt.Println("keystore:", p.Config.CertFile, "password:", p.Config.KeyPassword)
	fmt.Println("trust store:", p.Config.CAFile, "hostname verification:", !p.Config.NoHostnameVerification)
	for _, w := range p.Warnings {
		fmt.Println("warning:", strings.ReplaceAll(w, dir+string(filepath.Separator), "")) // messages name the file
	}
	// Output:
	// secure: true
	// keystore: /etc/zk/jm.p12 password: [redacted]
	// trust store: /etc/zk/ca.pem hostname verification: false
	// warning: zookeeper.ssl.enabledProtocols (from zk-client.properties) lists TLSv1.1, which zksecure never uses (TLS 1.2 is the minimum; the JDK disables it too)
}

// Load a PEM configuration and open a verified TLS connection to one member (client.Config.TLS
// takes the same Config). The example needs certificate files and a server, so it is compiled but
// not run.
func ExampleConfig_Load() {
	cl, err := zktls.Config{CAFile: "ca.pem", CertFile: "jm.pem", KeyFile: "jm.key", KeyPasswordFile: "jm.key.pw"}.Load()
	if err != nil {
		log.Fatal(err) // errors.Is(err, zktls.ErrKeyPassword), zktls.ErrUnsupportedKey, ...
	}
	conn, err := cl.Dial(context.Background(), "zk1.example.com:2281")
	if err != nil {
		log.Fatal(err) // zktls.ErrUnknownCA, ErrExpired, ErrHostname, ErrClientCertRequired, ...
	}
	defer conn.Close()
	fmt.Println(tls.VersionName(conn.ConnectionState().Version))
}
