package preflight_test

import (
	"context"
	"log"
	"os"

	"github.com/zksecure/zksecure/flinkconf"
	"github.com/zksecure/zksecure/preflight"
)

// Check what a Flink configuration will do against its ZooKeeper, as zk-secure-check --flink-conf
// does, reporting a failing clock-skew check as a warning. The example needs the file and running
// servers, so it is compiled but not run.
func ExampleRun() {
	conf, err := flinkconf.Load("conf/flink-conf.yaml")
	if err != nil {
		log.Fatal(err)
	}
	r, err := conf.ClientConfig(flinkconf.Options{})
	if err != nil {
		log.Fatal(err)
	}
	opts := preflight.Options{
		Client:    r.Config,
		Flink:     r,                                // config-lint reports its warnings
		JavaRules: r.Config.Kerberos.PrincipalRules, // what the JobManagers' JVM would ask for
		Ignore:    []string{preflight.CheckClockSkew},
	}
	if err := opts.Validate(); err != nil {
		log.Fatal(err)
	}
	rep := preflight.Run(context.Background(), opts)
	rep.WriteText(os.Stdout) // or rep.WriteJSON
	if rep.Failed() {
		os.Exit(1)
	}
}
