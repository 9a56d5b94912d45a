pm.collectionVariables.set('taken_username', pm.collectionVariables.get('username').toUpperCase());
