pm.variables.set('email_upper', pm.collectionVariables.get('email').toUpperCase());
