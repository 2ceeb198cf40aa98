package storagetest

import (
	"os"
	"testing"
)

// RequireServicesEnv names the environment variable that turns an
// unreachable test service from a skip into a failure. CI sets it to 1.
const RequireServicesEnv = "QUARK_REQUIRE_SERVICES"

// Addr returns the address of a test service: the environment variable env
// when set, else def (a loopback default).
func Addr(env, def string) string {
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
}

// Unreachable ends the test when a service it needs cannot be reached:
// skipped with a one-line reason, or failed when QUARK_REQUIRE_SERVICES=1.
func Unreachable(t testing.TB, service, addr string, err error) {
	t.Helper()
	if os.Getenv(RequireServicesEnv) == "1" {
		t.Fatalf("%s at %s unreachable (%s=1): %v", service, addr, RequireServicesEnv, err)
	}
	t.Skipf("%s at %s unreachable: %v", service, addr, err)
}
