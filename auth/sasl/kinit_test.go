package sasl_test

import (
	"os"
	"os/exec"
)

// runKinit writes a ticket cache for principal from keytab with MIT kinit.
func runKinit(keytab, principal, cache string) ([]byte, error) {
	cmd := exec.Command("kinit", "-k", "-t", keytab, "-c", cache, principal)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+kdc.Krb5Conf)
	return cmd.CombinedOutput()
}
