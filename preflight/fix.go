package preflight

import (
	"errors"

	"github.com/zksecure/zksecure/auth/sasl"
)

// explain splits a failure into a result's message and fix. The typed errors of auth/sasl carry
// their fix apart from their message; any other error is all message, with fallback as the fix.
func explain(err error, fallback string) (msg, fix string) {
	var ae *sasl.AuthError
	if errors.As(err, &ae) && ae.Fix != "" {
		return ae.Message(), ae.Fix
	}
	var le *sasl.LoginError
	if errors.As(err, &le) && le.Fix != "" {
		return le.Message(), le.Fix
	}
	return err.Error(), fallback
}
