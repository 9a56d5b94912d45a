expectNewApiKey('postman', 'api_key');
