package sasl_test

import (
	"os"
	"os/exec"
)

// kinit writes a ticket cache for principal from keytab with MIT kinit, against r's KDC.
func (r *kdcEnv) kinit(keytab, principal, cache string, args ...string) ([]byte, error) {
	cmd := exec.Command("kinit", append(append([]string{"-k", "-t", keytab, "-c", cache}, args...), principal)...)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+r.kdc.Krb5Conf)
	return cmd.CombinedOutput()
}
