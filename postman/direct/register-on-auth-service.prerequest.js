makeUpUser('direct_', 'postman_');
