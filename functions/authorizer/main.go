// Command authorizer is the AuthorizerFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/authorize"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartAuthorizer("AuthorizerFunction", store.Open(authorize.Authorizer)) }
