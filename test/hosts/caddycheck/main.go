// Caddy with its standard modules, built from the module proxy at the version the ec2 host runs
// (CADDY_IMAGE), so the tests can validate and run the rendered Caddyfile.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

func main() {
	caddycmd.Main()
}
