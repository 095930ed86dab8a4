// Command authorizer is the AuthorizerFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartAuthorizer("AuthorizerFunction", app.Authorizer) }
