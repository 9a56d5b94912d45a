expectNewApiKey('postman direct', 'direct_api_key');
