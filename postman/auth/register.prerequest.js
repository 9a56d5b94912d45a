makeUpUser('', 'postman_');
