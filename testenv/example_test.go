package testenv_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"testing"

	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/testenv"
)

// In a test, NewEnv starts a KDC, a PKI and ZooKeeper 3.8, and stops and removes them at the
// test's cleanup. The example starts servers, so it is compiled but not run.
func ExampleNewEnv() {
	testConnect := func(t *testing.T) { // func TestConnect(t *testing.T) in a _test.go file
		env := testenv.NewEnv(t, testenv.EnvOptions{EnforceSASL: true, TLS: true})
		c, err := client.Connect(t.Context(), client.Config{
			Members: []string{env.ZooKeeper.Members[0].SecureAddr()},
			TLS:     &zktls.Config{CAFile: env.PKI.CAFile, CertFile: env.PKI.Client.CertFile, KeyFile: env.PKI.Client.KeyFile},
			SASL:    client.SASLKerberos,
			Kerberos: sasl.Config{Login: sasl.Login{
				Principal: env.ClientPrincipal, Keytab: env.ClientKeytab, Krb5Conf: env.KDC.Krb5Conf}},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	_ = testConnect
}

// From a program, StartEnv starts the same environment, and Close stops it. The example starts
// servers, so it is compiled but not run.
func ExampleStartEnv() {
	env, err := testenv.StartEnv(context.Background(), testenv.EnvOptions{EnforceSASL: true})
	if err != nil {
		log.Fatal(err) // errors.Is(err, testenv.ErrMissingDependency): run `make deps`
	}
	defer env.Close()
	env.Describe(os.Stdout)
	fmt.Println(strings.Split(env.ZooKeeper.ConnectString(), ","))
}
