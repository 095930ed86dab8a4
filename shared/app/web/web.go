// Package web wires the customer dashboard's function: a public page and
// its embedded assets, which never reach the store.
package web

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/dashboard"
	"github.com/waickoff/waickoff/shared/httpapi"
)

// Dashboard builds GET /dashboard and GET /dashboard/{proxy+}.
func Dashboard(d *app.Deps) (*httpapi.Server, error) {
	s := d.Server(nil, nil)
	dashboard.Mount(s)
	return s, nil
}
