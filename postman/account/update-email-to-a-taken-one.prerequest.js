pm.collectionVariables.set('taken_email', pm.collectionVariables.get('email').toUpperCase());
