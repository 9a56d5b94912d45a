expectApiKeyListed('postman', 'api_key');
