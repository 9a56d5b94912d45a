expectBearerToken('direct_token', 'direct_token');
pm.collectionVariables.set('direct_password', pm.collectionVariables.get('direct_new_password'));
